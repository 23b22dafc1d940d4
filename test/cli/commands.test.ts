import { describe, expect, it } from 'vitest';
import { COMMANDS, findCommand } from '../../src/cli/commands.js';
import { bashCompletion, zshCompletion } from '../../src/cli/completion-command.js';
import { FLAG_OPTIONS } from '../../src/cli/flags.js';
import { ClusterUnavailableError } from '../../src/client/index.js';
import { exitCodeOf } from '../../src/cli/exit-codes.js';
import { run, USAGE } from '../../src/cli/run.js';

describe('the command list', () => {
  it('selects the longest matching words', () => {
    expect(findCommand(['node', 'drain', 'n1'])?.words).toEqual(['node', 'drain']);
    expect(findCommand(['node'])?.words).toEqual(['node']);
    expect(findCommand(['nodes'])?.words).toEqual(['nodes']);
    expect(findCommand(['cluster'])).toBeUndefined();
  });

  it('declares only flags the parser knows, and lists every command in the help and the completion', () => {
    const bash = bashCompletion(COMMANDS);
    for (const c of COMMANDS) {
      for (const f of c.flags) expect(Object.keys(FLAG_OPTIONS), `${c.words.join(' ')} --${f}`).toContain(f);
      expect(USAGE).toContain(c.usage[0]);
      for (const w of c.words) expect(bash).toContain(w);
    }
    expect(zshCompletion(COMMANDS)).toContain(bash);
  });

  it('names the flag it does not know, and what a command is missing', async () => {
    let err = '';
    const io = { out: () => undefined, err: (t: string) => (err += t) };
    expect(run(['shards', '--colour'], io)).toBe(2);
    expect(err).toMatch(/^torua: Unknown option '--colour'/);
    err = '';
    expect(await run(['node', 'drain'], io)).toBe(2);
    expect(err).toContain('node drain: which node?');
    expect(await run(['completion'], io)).toBe(2);
    expect(err).toContain('completion: which shell? (bash, zsh)');
  });

  it('maps "nobody answered" to 3 and an answer to 1', () => {
    const unreachable = new ClusterUnavailableError('nodes.list', [{ address: 'a:1', code: 'UNAVAILABLE', description: 'connection refused' }], 10, undefined);
    const answered = new ClusterUnavailableError('nodes.list', [{ address: 'a:1', code: 'NO_QUORUM', description: 'NO_QUORUM: no quorum' }], 10, undefined);
    expect(exitCodeOf(unreachable)).toBe(3);
    expect(exitCodeOf(answered)).toBe(1);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });
});
