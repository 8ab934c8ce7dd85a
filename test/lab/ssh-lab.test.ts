// The SSH adapter against real OpenSSH servers in network-namespace nodes, and the lab itself.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { labRequirement } from '../helpers/requirements.ts';
import { createLab } from '../../src/lab/lab.ts';
import { programHostGwAll, programVxlanAll, removeVxlan } from '../../src/lab/backends.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import { SshExec, type SshExecOptions } from '../../src/nodes/ssh.ts';
import { NodeAccessError, type ExecResult } from '../../src/nodes/exec.ts';

const skip = labRequirement();
let lab: Lab;
const opened: SshExec[] = [];

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 3, remoteNodes: 1, podsPerNode: 1 });
  await programHostGwAll(lab.nodes);
  await lab.startPods();
});

after(async () => {
  await Promise.all(opened.map((e) => e.close()));
  await lab?.destroy();
});

/** An adapter that only knows the lab's key and the given known_hosts, never the user's ~/.ssh. */
const sshExec = (options: SshExecOptions = {}): SshExec => {
  const exec = new SshExec({
    identityFiles: [lab.ssh!.identityFile],
    knownHostsFile: lab.ssh!.knownHostsFile,
    sshConfigFile: false,
    agentSocket: false,
    home: lab.dir,
    connectTimeoutMs: 3000,
    ...options,
  });
  opened.push(exec);
  return exec;
};

const local = (): LabNode[] => lab.nodes.filter((n) => !n.remote);
const knownHostsWithout = (file: string, node: LabNode, replacement?: string): string => {
  const lines = lab.nodes
    .filter((n) => n !== node)
    .map((n) => `${n.address} ${lab.ssh!.hostKeys[n.name]}`)
    .concat(replacement ? [`${node.address} ${replacement}`] : []);
  const path = join(lab.dir, file);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
};
const otherHostKey = (): string => {
  const file = join(lab.dir, `other-${Math.random().toString(36).slice(2)}`);
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  return readFileSync(`${file}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
};
const markerScript = 'touch /run/flannel/ran-here; hostname';
const settle = (exec: SshExec, nodes: readonly LabNode[], script: string) =>
  Promise.allSettled(nodes.map((n) => exec.run(lab.target(n.name), script, { timeoutMs: 10_000 })));

test(
  'each node answers over SSH from its own namespace, concurrently, one connection per node',
  { skip },
  async () => {
    await programHostGwAll(lab.nodes);
    const exec = sshExec();
    const script = 'hostname; echo "conn=$SSH_CONNECTION"; ip -j route; cat /run/flannel/subnet.env';
    // Two scripts per node at once: both must ride the same connection (same client port).
    const runs = await Promise.all(
      lab.nodes.flatMap((n) =>
        [0, 1].map(
          async () => [n, await exec.run(lab.target(n.name), script, { timeoutMs: 10_000 })] as const,
        ),
      ),
    );
    const ports = new Map<string, Set<string>>();
    for (const [node, result] of runs) {
      assert.equal(result.exitCode, 0, result.stderr);
      const [hostname, conn, routes, ...env] = result.stdout.trim().split('\n');
      assert.equal(hostname, node.name);
      const [clientIp, clientPort, serverIp] = conn!.replace('conn=', '').split(' ');
      assert.equal(serverIp, node.address);
      // The remote node is routed, not NATed: every session comes from the workstation's address.
      assert.equal(clientIp, lab.managementAddress);
      ports.set(node.name, (ports.get(node.name) ?? new Set()).add(clientPort!));
      const table = JSON.parse(routes!) as { dst: string; dev?: string; prefsrc?: string }[];
      assert.ok(
        table.some((r) => r.dev === 'eth0' && r.prefsrc === node.address),
        `${node.name} sees its own eth0 route`,
      );
      assert.ok(
        table.some((r) => r.dst === node.podCidr && r.dev === 'cni0'),
        `${node.name} sees its own cni0`,
      );
      assert.ok(env.includes(`FLANNEL_SUBNET=${node.gateway}/24`), `${node.name} reads its own subnet.env`);
    }
    for (const [name, set] of ports) assert.equal(set.size, 1, `${name} used one connection`);
  },
);

test('a non-zero exit is a result with its stdout and stderr, not an error', { skip }, async () => {
  const r: ExecResult = await sshExec().run(lab.target('node-1'), 'echo out; echo err >&2; exit 3', {
    timeoutMs: 10_000,
  });
  assert.deepEqual([r.exitCode, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
});

const ping = (from: LabNode, to: LabNode) =>
  lab.tryExec(from.pods[0]!.netns, ['ping', '-c', '1', '-W', '2', to.pods[0]!.address]);

test(
  'pods reach pods on other nodes over host-gw routes; a node behind a router is refused',
  { skip },
  async () => {
    const outcomes = await programHostGwAll(lab.nodes);
    const [n1, n2, n3] = local();
    assert.equal((await ping(n1!, n2!)).code, 0);
    assert.equal((await ping(n3!, n1!)).code, 0);
    const remote = lab.nodes.find((n) => n.remote)!;
    const refused = outcomes.get('node-1')!.find((o) => o.peer === remote.name)!;
    assert.equal(refused.ok, false);
    assert.match(refused.error!, /Nexthop has invalid gateway/);
    assert.notEqual((await ping(n1!, remote)).code, 0);
  },
);

test('pods reach pods on every node, the remote one included, over real VXLAN', { skip }, async () => {
  const outcomes = await programVxlanAll(lab.nodes);
  assert.ok([...outcomes.values()].flat().every((o) => o.ok));
  const [n1, n2] = local();
  const remote = lab.nodes.find((n) => n.remote)!;
  assert.equal((await ping(n1!, n2!)).code, 0);
  assert.equal((await ping(remote, n1!)).code, 0);
  const mtu = (size: number) =>
    lab.tryExec(n1!.pods[0]!.netns, [
      'ping',
      '-c',
      '1',
      '-W',
      '2',
      '-M',
      'do',
      '-s',
      String(size),
      n2!.pods[0]!.address,
    ]);
  assert.equal((await mtu(1422)).code, 0, 'path MTU 1450 fits');
  assert.notEqual((await mtu(1423)).code, 0, 'path MTU 1450 exceeded');
  for (const n of lab.nodes) await removeVxlan(n);
  await programHostGwAll(lab.nodes);
});

test(
  'a changed host key is refused and nothing runs on that node; the others still work',
  { skip },
  async () => {
    const [n1, n2, n3] = local();
    const file = knownHostsWithout('known_hosts.changed', n2!, otherHostKey());
    const results = await settle(sshExec({ knownHostsFile: file }), [n1!, n2!, n3!], markerScript);
    assert.equal(results[0]!.status, 'fulfilled');
    assert.equal(results[2]!.status, 'fulfilled');
    const refused = results[1]!;
    assert.equal(refused.status, 'rejected');
    const error = (refused as PromiseRejectedResult).reason as NodeAccessError;
    assert.ok(error instanceof NodeAccessError);
    assert.equal(error.kind, 'host-key-changed');
    assert.match(error.message, /^node-2 \(192\.168\.\d+\.12:22\): WARNING: host key has changed!/);
    assert.match(error.message, /nothing was run on this node/);
    assert.equal(
      error.hint,
      `if the change is expected, remove the old key with \`ssh-keygen -R ${n2!.address} -f ${file}\` and connect again`,
    );
    assert.ok(existsSync(join(n1!.runDir, 'ran-here')));
    assert.ok(existsSync(join(n3!.runDir, 'ran-here')));
    assert.equal(existsSync(join(n2!.runDir, 'ran-here')), false, 'the script never ran on node-2');
  },
);

test('an unknown host key is refused with the key fingerprint; nothing runs', { skip }, async () => {
  const n3 = local()[2]!;
  const file = knownHostsWithout('known_hosts.unknown', n3);
  const marker = join(n3.runDir, 'ran-here');
  if (existsSync(marker)) spawnSync('rm', ['-f', marker]);
  await assert.rejects(
    sshExec({ knownHostsFile: file }).run(lab.target(n3.name), markerScript, { timeoutMs: 10_000 }),
    (e: NodeAccessError) => {
      assert.equal(e.kind, 'host-key-unknown');
      assert.match(e.message, /host key is not in .*known_hosts\.unknown.*ssh-ed25519 key SHA256:/);
      return true;
    },
  );
  assert.equal(existsSync(marker), false);
});

test(
  'acceptNew records unknown keys in known_hosts, which are then trusted without it',
  { skip },
  async () => {
    const file = join(lab.dir, 'known_hosts.new');
    writeFileSync(file, '');
    const nodes = local();
    for (const r of await settle(sshExec({ knownHostsFile: file, acceptNew: true }), nodes, 'hostname')) {
      assert.equal(r.status, 'fulfilled');
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n').sort();
    assert.deepEqual(lines, nodes.map((n) => `${n.address} ${lab.ssh!.hostKeys[n.name]}`).sort());
    const again = await settle(sshExec({ knownHostsFile: file }), nodes, 'hostname');
    assert.deepEqual(
      again.map((r) => r.status === 'fulfilled' && r.value.stdout.trim()),
      nodes.map((n) => n.name),
    );
  },
);

test('known_hosts hashed by ssh-keygen -H is accepted', { skip }, async () => {
  const file = join(lab.dir, 'known_hosts.hashed');
  copyFileSync(lab.ssh!.knownHostsFile, file);
  assert.equal(spawnSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' }).status, 0);
  assert.doesNotMatch(readFileSync(file, 'utf8'), /192\.168/, 'no plain host names left');
  const r = await sshExec({ knownHostsFile: file }).run(lab.target('node-1'), 'hostname', {
    timeoutMs: 10_000,
  });
  assert.equal(r.stdout.trim(), 'node-1');
});

test('an unreachable node fails as unreachable while the others succeed', { skip }, async () => {
  const exec = sshExec({ connectTimeoutMs: 1500 });
  const silent = {
    name: 'node-9',
    address: lab.nodes[0]!.address.replace(/\.\d+$/, '.99'),
    port: 22,
    user: 'root',
  };
  const closed = { ...lab.target('node-1'), name: 'node-1-closed-port', port: 2222 };
  const [a, b, c] = await Promise.allSettled(
    [silent, closed, lab.target('node-2')].map((t) => exec.run(t, 'hostname', { timeoutMs: 10_000 })),
  );
  for (const r of [a, b]) {
    assert.equal(r!.status, 'rejected');
    const e = (r as PromiseRejectedResult).reason as NodeAccessError;
    assert.equal(e.kind, 'unreachable', e.message);
  }
  assert.match(((b as PromiseRejectedResult).reason as Error).message, /ECONNREFUSED/);
  assert.equal(c?.status === 'fulfilled' && c.value.stdout.trim(), 'node-2');
});

test(
  'a command that overruns its timeout fails as timeout and the connection stays usable',
  { skip },
  async () => {
    const exec = sshExec();
    await assert.rejects(
      exec.run(lab.target('node-1'), 'sleep 30', { timeoutMs: 300 }),
      (e: NodeAccessError) => {
        assert.equal(e.kind, 'timeout');
        assert.match(e.message, /^node-1 .*did not finish within 300 ms/);
        return true;
      },
    );
    const r = await exec.run(lab.target('node-1'), 'echo still-here', { timeoutMs: 10_000 });
    assert.equal(r.stdout, 'still-here\n');
  },
);

test('an aborted signal stops a running command', { skip }, async () => {
  const controller = new AbortController();
  const pending = sshExec().run(lab.target('node-2'), 'sleep 30', {
    timeoutMs: 60_000,
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(pending, { name: 'InterruptedError' });
});

test('through a jump host, the node sees the session coming from the jump host', { skip }, async () => {
  const remote = lab.nodes.find((n) => n.remote)!;
  const jump = local()[0]!;
  const r = await sshExec({ jumpHost: `root@${jump.address}` }).run(
    lab.target(remote.name),
    'echo "$SSH_CONNECTION"; hostname',
    {
      timeoutMs: 10_000,
    },
  );
  const [conn, hostname] = r.stdout.trim().split('\n');
  assert.equal(hostname, remote.name);
  assert.equal(conn!.split(' ')[0], jump.address, 'the session came from the jump host');
});

test('ssh config supplies HostName, User and IdentityFile for an alias', { skip }, async () => {
  const node = local()[1]!;
  const config = join(lab.dir, 'ssh_config');
  writeFileSync(
    config,
    `Host lab-two\n  HostName ${node.address}\n  User root\n  IdentityFile ${lab.ssh!.identityFile}\n`,
  );
  const exec = sshExec({ sshConfigFile: config, identityFiles: [] });
  const r = await exec.run({ name: node.name, address: 'lab-two' }, 'hostname; id -un', {
    timeoutMs: 10_000,
  });
  assert.equal(r.stdout, `${node.name}\nroot\n`);
});

test('teardown leaves no namespace, link or process of the run behind', { skip }, async () => {
  const { prefix, namespaces } = lab;
  assert.ok(namespaces.length >= 8);
  await Promise.all(opened.map((e) => e.close()));
  await lab.destroy();
  const listed = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  assert.equal(listed.split('\n').filter((l) => l.startsWith(prefix)).length, 0, listed);
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(links, new RegExp(`: ${prefix}`));
  const procs = spawnSync('pgrep', ['-f', lab.dir], { encoding: 'utf8' }).stdout.trim();
  assert.equal(procs, '');
  assert.equal(existsSync(lab.dir), false);
});
