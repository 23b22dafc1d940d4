import { levelEnabled, type LogLevel, type MessageLevel } from './log-level.js';
import type { LogFields, Logger } from './logger.js';

/** One line as a test sees it: bindings and fields merged, like the JSON line. */
export interface LogRecord {
  readonly level: MessageLevel;
  readonly msg: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

export interface MemoryLogger extends Logger {
  /** Shared by the logger and all its children, in order. */
  readonly records: LogRecord[];
}

function memoryLogger(level: LogLevel, bindings: LogFields, records: LogRecord[]): MemoryLogger {
  const at =
    (l: MessageLevel) =>
    (msg: string, fields?: LogFields): void => {
      if (levelEnabled(level, l)) records.push({ level: l, msg, fields: { ...bindings, ...fields } });
    };
  return {
    level,
    records,
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: (l) => levelEnabled(level, l),
    child: (more) => memoryLogger(level, { ...bindings, ...more }, records),
  };
}

/** Keeps lines in memory for assertions; logs everything unless told a level. */
export function createMemoryLogger(level: LogLevel = 'trace'): MemoryLogger {
  return memoryLogger(level, {}, []);
}

const noop = (): void => {};

/** Logs nothing; what a component gets when its caller passes no logger. */
export const silentLogger: Logger = {
  level: 'silent',
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  isLevelEnabled: () => false,
  child: () => silentLogger,
};
