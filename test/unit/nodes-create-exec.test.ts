import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { UsageError } from '../../src/errors.ts';
import { addNodeAccessOptions, nodeAccessOptions } from '../../src/commands/node-access-flags.ts';
import { createNodeExec } from '../../src/nodes/create-exec.ts';
import { gatherNodeFacts } from '../../src/facts/gather.ts';
import type { Io } from '../../src/io.ts';

const dir = mkdtempSync(join(tmpdir(), 'flannelctl-create-exec-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const key = join(dir, 'id_ed25519');
const keygen = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', key]);
const skip = keygen.status === 0 ? undefined : 'ssh-keygen is not installed';
const knownHosts = join(dir, 'known_hosts');
const sshConfig = join(dir, 'ssh_config');
writeFileSync(knownHosts, '');
writeFileSync(sshConfig, '');

/** A port on 127.0.0.1 that nothing listens on. */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
};

const io = (env: NodeJS.ProcessEnv): Io => ({
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  stdin: new PassThrough(),
  env,
  isTTY: false,
});

const gatherWith = async (env: NodeJS.ProcessEnv) => {
  const command = addNodeAccessOptions(new Command('doctor')).exitOverride();
  command.parse(
    [
      '--ssh-key',
      key,
      '--ssh-known-hosts',
      knownHosts,
      '--ssh-config',
      sshConfig,
      '--ssh-user',
      'root',
      '--connect-timeout',
      '2s',
    ],
    { from: 'user' },
  );
  const options = nodeAccessOptions(command);
  const exec = await createNodeExec(options, { io: io(env), yes: false });
  try {
    return await gatherNodeFacts([{ name: 'node-1', address: '127.0.0.1', port: await closedPort() }], exec, {
      timeoutMs: options.commandTimeoutMs,
      concurrency: options.concurrency,
    });
  } finally {
    await exec.close();
  }
};

test(
  'an encrypted --ssh-key without a terminal or FLANNELCTL_SSH_PASSPHRASE is a usage error',
  { skip },
  async () => {
    await assert.rejects(gatherWith({}), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /id_ed25519 is encrypted and no passphrase was given/);
      assert.match(error.hint ?? '', /FLANNELCTL_SSH_PASSPHRASE/);
      return true;
    });
  },
);

test(
  'with FLANNELCTL_SSH_PASSPHRASE the key is used and a closed port is reported per node',
  { skip },
  async () => {
    const [result] = await gatherWith({ FLANNELCTL_SSH_PASSPHRASE: 'secret' });
    assert.ok(result && !result.ok);
    assert.equal(result.issue.kind, 'unreachable');
    assert.match(result.issue.message, /^node-1 \(127\.0\.0\.1:\d+\): cannot connect \(ECONNREFUSED\)/);
  },
);

test('--ssh-insecure-skip-host-key-check warns on stderr on every run', async () => {
  const command = addNodeAccessOptions(new Command('doctor')).exitOverride();
  command.parse(['--ssh-insecure-skip-host-key-check', '--ssh-config', sshConfig], { from: 'user' });
  for (let run = 0; run < 2; run++) {
    const runIo = io({});
    const exec = await createNodeExec(nodeAccessOptions(command), { io: runIo, yes: true });
    await exec.close();
    const stderr = String((runIo.stderr as PassThrough).read() ?? '');
    assert.match(stderr, /^warning: --ssh-insecure-skip-host-key-check: node host keys are NOT verified/);
  }
  const checked = addNodeAccessOptions(new Command('doctor')).exitOverride();
  checked.parse(['--ssh-known-hosts', knownHosts, '--ssh-config', sshConfig], { from: 'user' });
  const quietIo = io({});
  await (await createNodeExec(nodeAccessOptions(checked), { io: quietIo, yes: true })).close();
  assert.equal((quietIo.stderr as PassThrough).read(), null, 'no warning when host keys are checked');
});
