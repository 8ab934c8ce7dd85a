import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { UsageError } from '../../src/errors.ts';
import { addNodeAccessOptions, nodeAccessOptions } from '../../src/commands/node-access-flags.ts';

const dir = mkdtempSync(join(tmpdir(), 'flannelctl-flags-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => {
  const path = join(dir, name);
  writeFileSync(path, 'x\n');
  return path;
};

/** Parses argv like a subcommand would; commander's own errors become thrown CommanderErrors. */
const parse = (...args: string[]) => {
  const command = addNodeAccessOptions(new Command('doctor'))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action(() => undefined);
  command.parse(args, { from: 'user' });
  return nodeAccessOptions(command);
};

const usage = (args: string[], message: RegExp): void => {
  assert.throws(
    () => parse(...args),
    (error: unknown) => {
      assert.ok(
        error instanceof UsageError || (error as { code?: string }).code?.startsWith('commander.'),
        String(error),
      );
      assert.match((error as Error).message, message);
      return true;
    },
    args.join(' '),
  );
};

test('without flags: ssh, every node, flannel public-ip then InternalIP, 32 at once, host keys checked', () => {
  assert.deepEqual(parse(), {
    mode: 'ssh',
    ssh: { identityFiles: [], acceptNew: false, insecureSkipHostKeyCheck: false, sudo: false },
    connectTimeoutMs: 10_000,
    commandTimeoutMs: 60_000,
    concurrency: 32,
  });
});

test('every flag lands in the typed options', () => {
  const key1 = file('id_a');
  const key2 = file('id_b');
  const config = file('ssh_config');
  const known = file('known_hosts');
  const inventory = file('nodes.yaml');
  const options = parse(
    '--nodes',
    'node-1,node-2',
    '--nodes',
    'node-3,node-1',
    '--inventory',
    inventory,
    '--node-address',
    'internal-ip',
    '--ssh-user',
    'ubuntu',
    '--ssh-port',
    '2222',
    '--ssh-key',
    key1,
    '--ssh-key',
    key2,
    '--ssh-config',
    config,
    '--ssh-known-hosts',
    known,
    '--ssh-jump',
    'admin@bastion.example.com:2200,[fd00::1]:22',
    '--ssh-sudo',
    '--connect-timeout',
    '3s',
    '--command-timeout',
    '2m',
    '--concurrency',
    '4',
  );
  assert.deepEqual(options, {
    mode: 'ssh',
    nodes: ['node-1', 'node-2', 'node-3'],
    inventoryFile: inventory,
    nodeAddress: 'internal-ip',
    ssh: {
      user: 'ubuntu',
      port: 2222,
      identityFiles: [key1, key2],
      configFile: config,
      knownHostsFile: known,
      acceptNew: false,
      insecureSkipHostKeyCheck: false,
      jumpHost: 'admin@bastion.example.com:2200,[fd00::1]:22',
      sudo: true,
    },
    connectTimeoutMs: 3000,
    commandTimeoutMs: 120_000,
    concurrency: 4,
  });
  assert.equal(parse('-l', 'node-role.kubernetes.io/worker=').selector, 'node-role.kubernetes.io/worker=');
  assert.equal(parse('--ssh-accept-new', '--ssh-known-hosts', join(dir, 'not-yet')).ssh.acceptNew, true);
  assert.equal(parse('--ssh-insecure-skip-host-key-check').ssh.insecureSkipHostKeyCheck, true);
});

test('bad values and conflicting flags are usage errors naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [
      ['--node-access', 'daemonset', '--ssh-user', 'root'],
      /--ssh-user does not apply to --node-access daemonset/,
    ],
    [['--node-access', 'kube-exec', '--ssh-sudo'], /--ssh-sudo does not apply to --node-access kube-exec/],
    [['--node-image', 'busybox'], /--node-image applies only to --node-access kube-exec/],
    [['--node-access', 'telnet'], /--node-access.*telnet.*Allowed choices are ssh, kube-exec, daemonset/],
    [
      ['--node-address', 'hostname'],
      /--node-address.*Allowed choices are public-ip, internal-ip, external-ip/,
    ],
    [['--nodes', 'node-1,,node-2'], /--nodes: "" is not a node name/],
    [['--nodes', 'Node_1'], /--nodes: "Node_1" is not a node name/],
    [['--nodes', 'node-1', '-l', 'a=b'], /--nodes and -l\/--selector cannot be used together/],
    [['-l', ' '], /-l\/--selector is empty/],
    [['--ssh-port', '22x'], /--ssh-port takes a whole number, not "22x"/],
    [['--ssh-port', '70000'], /--ssh-port 70000 is not between 1 and 65535/],
    [['--ssh-user', 'root;id'], /--ssh-user "root;id" is not a valid user name/],
    [['--ssh-key', join(dir, 'nope')], /--ssh-key .*nope: no such file/],
    [['--ssh-key', dir], /--ssh-key .*: not a regular file/],
    [['--ssh-config', join(dir, 'nope')], /--ssh-config .*nope: no such file/],
    [['--ssh-known-hosts', join(dir, 'nope')], /--ssh-known-hosts .*nope: no such file/],
    [['--inventory', join(dir, 'nope.yaml')], /--inventory .*nope\.yaml: no such file/],
    [
      ['--ssh-accept-new', '--ssh-insecure-skip-host-key-check'],
      /--ssh-accept-new and --ssh-insecure-skip-host-key-check cannot be used together/,
    ],
    [
      ['--ssh-known-hosts', file('kh'), '--ssh-insecure-skip-host-key-check'],
      /--ssh-known-hosts and --ssh-insecure-skip-host-key-check cannot/,
    ],
    [['--ssh-jump', '-oProxyCommand=id'], /--ssh-jump "-oProxyCommand=id" is not \[user@\]host\[:port\]/],
    [['--ssh-jump', 'a b'], /--ssh-jump "a b" is not/],
    [['--connect-timeout', 'soon'], /--connect-timeout "soon" is not a duration/],
    [['--command-timeout', '0s'], /--command-timeout 0s must be greater than zero/],
    [['--concurrency', '0'], /--concurrency 0 must be at least 1/],
    [['--concurrency', '-1'], /--concurrency takes a whole number/],
  ];
  for (const [args, message] of cases) usage(args, message);
});

test('kube-exec: --node-image is kept, and pods get 60s to start unless --connect-timeout says otherwise', () => {
  const kube = parse('--node-access', 'kube-exec', '--node-image', 'registry.local:5000/flannel:v0.28.9');
  assert.equal(kube.mode, 'kube-exec');
  assert.equal(kube.nodeImage, 'registry.local:5000/flannel:v0.28.9');
  assert.equal(kube.connectTimeoutMs, 60_000);
  assert.equal(parse('--node-access', 'kube-exec', '--connect-timeout', '5s').connectTimeoutMs, 5000);
  assert.equal(parse().connectTimeoutMs, 10_000);
});
