// A bad identity file or a wrong passphrase, as a real process sees it: flannelctl must say what is
// wrong and exit 2. It used to leave its per-node progress rows waiting forever once the probe stopped,
// so Node ended the process with 13 (an unsettled top-level await) and printed no error at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVirtualCluster } from '../../src/sim/virtual-cluster.ts';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** The CLI in its own process, launched as bin/flannelctl.js does (top-level await of main). */
const flannelctl = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const launcher = `import { main } from ${JSON.stringify(CLI)}; process.exitCode = await main(process.argv);`;
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', launcher, 'flannelctl', ...args],
      { env: { ...process.env, CI: 'true', ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });

const withKey = (args: readonly string[], key: string): string[] => {
  const i = args.indexOf('--ssh-key');
  assert.ok(i >= 0);
  return [...args.slice(0, i + 1), key, ...args.slice(i + 2)];
};

test('an identity file that is no key, or a wrong passphrase: a clear error and exit 2', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw', routeCheckIntervalMs: 600_000 });
  const dir = await mkdtemp(join(tmpdir(), 'flannelctl-keys-'));
  t.after(async () => {
    await cluster.close();
    await rm(dir, { recursive: true, force: true });
  });
  const garbage = join(dir, 'not-a-key');
  await writeFile(garbage, 'this is not a private key\n', { mode: 0o600 });
  // The cluster's own key, encrypted: only the passphrase decides.
  const args = cluster.cliArgs();
  const encrypted = join(dir, 'id_ed25519');
  await copyFile(args[args.indexOf('--ssh-key') + 1]!, encrypted);
  execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'the right one', '-f', encrypted]);

  const bad = await flannelctl(['doctor', ...withKey(cluster.cliArgs(), garbage)]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, new RegExp(`^error: identity file ${garbage} is not a private key`, 'm'));
  assert.equal(bad.stdout, '');

  const wrong = await flannelctl(['doctor', ...withKey(cluster.cliArgs(), encrypted)], {
    FLANNELCTL_SSH_PASSPHRASE: 'a wrong one',
  });
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(
    wrong.stderr,
    new RegExp(`^error: cannot decrypt identity file ${encrypted}: wrong passphrase\\?`, 'm'),
  );

  // The right passphrase opens the same file: the error was the passphrase, nothing else.
  const right = await flannelctl(['doctor', ...withKey(cluster.cliArgs(), encrypted), '-o', 'json'], {
    FLANNELCTL_SSH_PASSPHRASE: 'the right one',
  });
  assert.equal(right.code, 0, right.stderr);
  assert.equal((JSON.parse(right.stdout) as { kind: string }).kind, 'DoctorReport');
});
