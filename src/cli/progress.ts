/**
 * Progress of a long operation (`--wait`): on a terminal one line redrawn in
 * place, a bar with the share done and an estimate of the time left; into a
 * pipe or a file a plain line whenever the count changes, so logs stay
 * readable.
 */
export interface ProgressOptions {
  readonly label: string;
  readonly tty: boolean;
  readonly write: (text: string) => void;
  /** For tests: the clock. */
  readonly nowMs?: () => number;
  readonly width?: number;
}

export interface ProgressDisplay {
  /** `done` of `total` units (total may grow or shrink as the cluster learns more). */
  update(done: number, total: number, detail?: string): void;
  /** Clears the bar on a terminal, then writes `message` (if any) on a line of its own. */
  finish(message?: string): void;
}

export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `[#######.............]  35%  7/20  ETA 12s`: the bar of a terminal line. */
export function progressBar(done: number, total: number, width: number): string {
  const share = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

export function createProgress(options: ProgressOptions): ProgressDisplay {
  const now = options.nowMs ?? (() => Date.now());
  const width = options.width ?? 30;
  const startedAt = now();
  let first: { done: number; atMs: number } | undefined;
  let lastLine = '';
  let lastDone = -1;
  let lastTotal = -1;
  let drawn = false;

  function eta(done: number, total: number): string {
    if (first === undefined || done <= first.done) return '?';
    const rate = (done - first.done) / Math.max(1, now() - first.atMs);
    return formatEta((total - done) / rate);
  }

  return {
    update(done, total, detail) {
      first ??= { done, atMs: now() };
      if (options.tty) {
        const line = `${options.label} ${progressBar(done, total, width)}  ${done}/${total}  ETA ${eta(done, total)}${detail ? `  ${detail}` : ''}`;
        if (line === lastLine) return;
        options.write(`\r\x1b[2K${line}`);
        lastLine = line;
        drawn = true;
      } else if (done !== lastDone || total !== lastTotal) {
        const pct = total <= 0 ? 100 : Math.floor((100 * Math.min(done, total)) / total);
        options.write(`${options.label}: ${done}/${total} (${pct}%)${detail ? ` ${detail}` : ''}, ${((now() - startedAt) / 1000).toFixed(1)} s\n`);
      }
      lastDone = done;
      lastTotal = total;
    },
    finish(message) {
      if (options.tty && drawn) options.write(`\r\x1b[2K`);
      if (message) options.write(`${message}\n`);
    },
  };
}
