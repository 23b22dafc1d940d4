/**
 * The trace of one seed: every line as it happens to a replay (`--trace`),
 * the last ones kept for a failure's report, and the violations found.
 */
import type { SystemViolation } from './sim-result.js';

const TRACE_LINES = 400;
/** Violations kept per seed: the first is what matters, a few more give context. */
const MAX_VIOLATIONS = 10;

export class Trace {
  readonly violations: SystemViolation[] = [];
  readonly lines: string[] = [];

  constructor(
    private readonly nowMs: () => number,
    private readonly onLine?: (line: string) => void,
  ) {}

  note(line: string): void {
    const l = `${String(this.nowMs()).padStart(6)} ms  ${line}`;
    this.onLine?.(l);
    this.lines.push(l);
    if (this.lines.length > TRACE_LINES) this.lines.shift();
  }

  fail(property: string, detail: string): void {
    if (this.violations.length >= MAX_VIOLATIONS) return;
    this.violations.push({ property, atMs: this.nowMs(), detail });
    this.note(`VIOLATION ${property}: ${detail}`);
  }
}
