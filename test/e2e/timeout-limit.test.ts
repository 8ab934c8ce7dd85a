// A timeout longer than a Node timer can wait (2^31-1 ms) used to fire at once (setTimeout clamps it
// to 1 ms); each timeout flag now rejects it with exit 2 before anything is contacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';

// Nothing listens here: had a command got past validation, it would fail otherwise, not with exit 2.
const NOWHERE = ['--kubeconfig', '/nonexistent/kubeconfig'];

test('--connect-timeout, --command-timeout and --timeout above the timer limit: exit 2 with the limit', async () => {
  for (const [flag, command] of [
    ['--connect-timeout', 'doctor'],
    ['--command-timeout', 'doctor'],
    ['--command-timeout', 'tune'],
    ['--timeout', 'doctor'],
  ] as const) {
    const r = await runCli([command, ...NOWHERE, flag, '600h']);
    assert.equal(r.code, 2, `${command} ${flag}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(`^error: ${flag} "600h" is too long: Node's timers go up to 2\\^31-1 ms`, 'm'),
    );
    assert.equal(r.stdout, '');
  }
});
