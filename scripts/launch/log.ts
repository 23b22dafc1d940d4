/** A progress line on stderr with the time of day (benches and chaos runs; stdout keeps their results). */
export function log(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}
