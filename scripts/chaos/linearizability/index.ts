export { checkLinearizability, DEFAULT_CHECK_OPTIONS, type CheckOptions, type CheckProgress, type KeyVerdict, type LinearizabilityReport, type Violation } from './checker.js';
export { findLostWrites, type LostWrite, type LostWritesReport } from './lost-writes.js';
export { checkHistoryCommand, EXIT_OK, EXIT_UNDECIDED, EXIT_USAGE, EXIT_VIOLATION, type CommandIo } from './command.js';
