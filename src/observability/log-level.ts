/**
 * Levels, least severe first; `silent` logs nothing. pino's `fatal` is left
 * out: a process that cannot go on logs `error` and exits with a code.
 */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Levels a message can be logged at. */
export type MessageLevel = Exclude<LogLevel, 'silent'>;

export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

const RANK: Readonly<Record<LogLevel, number>> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, silent: 5 };

/** Whether a logger at `threshold` writes a message at `level`. */
export function levelEnabled(threshold: LogLevel, level: MessageLevel): boolean {
  return RANK[level] >= RANK[threshold];
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}
