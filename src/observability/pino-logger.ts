import pino from 'pino';
import { DEFAULT_LOG_LEVEL, type LogLevel, type MessageLevel } from './log-level.js';
import type { LogFields, Logger } from './logger.js';

/** Where lines go: anything with `write(line)`; stderr by default. */
export interface LogStream {
  write(line: string): unknown;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Fields on every line, e.g. `{replica: 'c1'}`. */
  bindings?: LogFields;
  stream?: LogStream;
}

class PinoLogger implements Logger {
  constructor(private readonly p: pino.Logger) {}

  get level(): LogLevel {
    return this.p.level as LogLevel;
  }

  trace = (msg: string, fields?: LogFields) => this.p.trace(fields ?? {}, msg);
  debug = (msg: string, fields?: LogFields) => this.p.debug(fields ?? {}, msg);
  info = (msg: string, fields?: LogFields) => this.p.info(fields ?? {}, msg);
  warn = (msg: string, fields?: LogFields) => this.p.warn(fields ?? {}, msg);
  error = (msg: string, fields?: LogFields) => this.p.error(fields ?? {}, msg);

  isLevelEnabled(level: MessageLevel): boolean {
    return this.p.isLevelEnabled(level);
  }

  child(bindings: LogFields): Logger {
    return new PinoLogger(this.p.child(bindings));
  }
}

/**
 * JSON lines (pino): `{"level":"info","time":"…","pid":…,"hostname":…,
 * …bindings, …fields, "msg":"…"}`. Level as a word and time as ISO text,
 * because people read these lines while a local cluster runs. Writes to
 * stderr synchronously: a process killed right after an important line
 * (the last one before a crash is the one that matters) still has it out.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.stream ?? pino.destination({ dest: 2, sync: true });
  const p = pino(
    {
      level: options.level ?? DEFAULT_LOG_LEVEL,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination as pino.DestinationStream,
  );
  return new PinoLogger(options.bindings ? p.child(options.bindings) : p);
}
