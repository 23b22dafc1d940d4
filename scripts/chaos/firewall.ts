/**
 * Packet-filter partitions on the loopback aliases (DESIGN.md §1, §8), as
 * the integration harness makes them (test/support/cluster-harness.ts; a
 * script may not import from test/): INPUT rules that DROP tcp between two
 * hosts on given ports, each tagged with a comment naming this run, and
 * deleted by exactly this run: when the fault heals, at the end, and at
 * process exit (also after Ctrl-C), never by a broad flush.
 */
import { execFile, execFileSync } from 'node:child_process';

/** Why partitions cannot run here, or undefined when they can (root and a working `iptables`). */
export function partitionUnsupportedReason(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root';
  try {
    execFileSync('iptables', ['-S', 'INPUT'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return err.code === 'ENOENT' ? 'no iptables command' : `iptables does not work here (${err.message.split('\n')[0]})`;
  }
  return undefined;
}

export interface Endpoint {
  readonly host: string;
  /** Every port the process listens on. */
  readonly ports: readonly number[];
}

/** Rules one fault added, deleted together. */
export interface Cut {
  readonly rules: string[][];
}

/** Most rules alive at once: a fault adds a few dozen at most. */
const MAX_RULES = 1_000;

/** The rules (untagged) that drop tcp from `from` to `to`: to its ports, and from its ports. */
function oneWaySpecs(from: Endpoint, to: Endpoint): string[][] {
  return [
    ...to.ports.map((port) => ['INPUT', '-s', from.host, '-d', to.host, '-p', 'tcp', '--dport', String(port), '-j', 'DROP']),
    ...from.ports.map((port) => ['INPUT', '-s', from.host, '-d', to.host, '-p', 'tcp', '--sport', String(port), '-j', 'DROP']),
  ];
}

/** Runs one `iptables-restore --noflush` with `commands` (each an argument list) in the filter table. */
function restore(commands: readonly (readonly string[])[]): Promise<void> {
  const text = `*filter\n${commands.map((c) => c.join(' ')).join('\n')}\nCOMMIT\n`;
  return new Promise((resolve, reject) => {
    const child = execFile('iptables-restore', ['--noflush'], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`iptables-restore: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
    child.stdin?.end(text);
  });
}

export class Firewall {
  private readonly live = new Set<string[]>();
  private readonly tag: string;
  private exitHook: (() => void) | undefined;

  constructor(opts: { tag: string }) {
    this.tag = opts.tag;
  }

  /** Drops every packet from `from` to `to` (to its ports, and from its ports to `to`): one direction only. */
  dropOneWay(from: Endpoint, to: Endpoint, cut: Cut = { rules: [] }): Cut {
    for (const spec of oneWaySpecs(from, to)) this.add(cut, spec);
    return cut;
  }

  /**
   * Both directions of every pair, applied at once by one `iptables-restore
   * --noflush` that this process does not wait for synchronously: a caller
   * that measures its own event loop (a writer timing acknowledgements) is
   * not stalled by dozens of iptables runs, and the cut starts at one
   * instant rather than link by link.
   */
  async dropBothAtOnce(pairs: readonly (readonly [Endpoint, Endpoint])[]): Promise<Cut> {
    const specs = pairs.flatMap(([a, b]) => [...oneWaySpecs(a, b), ...oneWaySpecs(b, a)]);
    if (this.live.size + specs.length > MAX_RULES) throw new Error(`firewall: more than ${MAX_RULES} rules alive; a fault did not heal`);
    const cut: Cut = { rules: specs.map((spec) => this.tagged(spec)) };
    this.hookExit();
    // Counted as live before they exist: an exit meanwhile deletes what did get in (a missing one is skipped).
    for (const r of cut.rules) this.live.add(r);
    await restore(cut.rules.map((r) => ['-I', ...r]));
    return cut;
  }

  /** Deletes the rules of one cut with one `iptables-restore`; falls back to one by one (collecting errors) if that fails. */
  async healAtOnce(cut: Cut): Promise<string[]> {
    const rules = cut.rules.filter((r) => this.live.has(r));
    if (rules.length === 0) return [];
    try {
      await restore(rules.map((r) => ['-D', ...r]));
    } catch {
      return this.heal(cut);
    }
    for (const r of rules) this.live.delete(r);
    cut.rules.splice(0);
    return [];
  }

  /** Both directions between `a` and `b`. */
  dropBoth(a: Endpoint, b: Endpoint, cut: Cut = { rules: [] }): Cut {
    this.dropOneWay(a, b, cut);
    this.dropOneWay(b, a, cut);
    return cut;
  }

  private add(cut: Cut, spec: string[]): void {
    if (this.live.size >= MAX_RULES) throw new Error(`firewall: more than ${MAX_RULES} rules alive; a fault did not heal`);
    const full = this.tagged(spec);
    execFileSync('iptables', ['-I', ...full], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    this.live.add(full);
    cut.rules.push(full);
    this.hookExit();
  }

  private tagged(spec: readonly string[]): string[] {
    return [...spec.slice(0, -2), '-m', 'comment', '--comment', this.tag, ...spec.slice(-2)];
  }

  private hookExit(): void {
    if (this.exitHook === undefined) {
      this.exitHook = () => this.healAll();
      process.once('exit', this.exitHook);
    }
  }

  /** Deletes the rules of one cut; errors are collected, not thrown (healing goes on). */
  heal(cut: Cut): string[] {
    const errors: string[] = [];
    for (const r of cut.rules.splice(0).reverse()) {
      if (!this.live.has(r)) continue;
      try {
        execFileSync('iptables', ['-D', ...r], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
      } catch (e) {
        errors.push(`iptables -D ${r.join(' ')}: ${(e as Error).message.split('\n')[0]}`);
      }
      this.live.delete(r);
    }
    return errors;
  }

  /** Deletes every rule this run added and still has (synchronous: also runs at exit). */
  healAll(): string[] {
    return this.heal({ rules: [...this.live] });
  }

  get ruleCount(): number {
    return this.live.size;
  }
}
