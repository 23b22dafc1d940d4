/** TORUA_BENCH_NODE_ARGS (space-separated) go before the script of every torua process a bench starts, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
export function benchNodeArgs(): string[] {
  return (process.env['TORUA_BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
}

/** A process run with --cpu-prof writes its profile only when it exits by itself: SIGTERM then, SIGKILL otherwise. */
export function benchStopSignal(extraNodeArgs: readonly string[] = []): 'SIGTERM' | 'SIGKILL' {
  return [...benchNodeArgs(), ...extraNodeArgs].includes('--cpu-prof') ? 'SIGTERM' : 'SIGKILL';
}
