export { DEFAULT_LOG_LEVEL, isLogLevel, levelEnabled, LOG_LEVELS, type LogLevel, type MessageLevel } from './log-level.js';
export type { LogFields, Logger, LogMethod } from './logger.js';
export { createLogger, type LoggerOptions, type LogStream } from './pino-logger.js';
export { createMemoryLogger, silentLogger, type LogRecord, type MemoryLogger } from './memory-logger.js';
export type { Counter, Gauge, Histogram, LabelValues } from './metric-types.js';
export type { HealthMetrics, HttpMetrics, Metrics, RaftMetrics, TransportMetrics } from './metrics.js';
export { createMetrics, type CreateMetricsOptions, type MetricsRegistry } from './prom-metrics.js';
export { createNoopMetrics } from './noop-metrics.js';
