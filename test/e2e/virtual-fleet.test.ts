// 200 virtual nodes probed over the real ssh2 client adapter (public-key auth, known_hosts checks);
// host-key changes, stopped and hung nodes fail the way real ones do, without touching the others.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { newProbeNonce } from '../../src/facts/probe-input.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { NodeAccessError, type NodeExec } from '../../src/nodes/exec.ts';
import { createSshExec } from '../../src/nodes/ssh.ts';
import { startVirtualFleet, type VirtualFleet } from '../../src/sim/virtual-node/fleet.ts';

const COUNT = 200;
let fleet: VirtualFleet;

before(async () => {
  fleet = await startVirtualFleet({ nodes: COUNT, backend: 'host-gw' });
});
after(async () => {
  await fleet?.close();
});

const accessKind = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
    return 'succeeded';
  } catch (error) {
    assert.ok(error instanceof NodeAccessError, String(error));
    return error.kind;
  }
};

test(`${COUNT} virtual nodes are probed through createSshExec in one process`, async (t) => {
  const ssh = createSshExec({ ...fleet.sshOptions(), concurrency: 64 });
  const started = performance.now();
  try {
    const nonce = newProbeNonce();
    const script = buildProbeScript({ nonce, peers: ['192.168.77.12', '172.31.0.9'] });
    const facts = await Promise.all(
      fleet.targets().map(async (target) => {
        const r = await ssh.run(target, script, { timeoutMs: 60_000 });
        assert.equal(r.exitCode, 0, r.stderr);
        return parseProbeOutput(target.name, r.stdout, nonce);
      }),
    );
    t.diagnostic(
      `${COUNT} nodes probed in ${Math.round(performance.now() - started)} ms, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
    );
    assert.equal(facts.length, COUNT);
    for (const [i, f] of facts.entries()) {
      const n = i + 1;
      assert.deepEqual(f.errors, [], f.name);
      assert.equal(f.hostname, `node-${n}`);
      assert.equal(
        f.addresses?.find((a) => a.ifname === 'eth0' && a.family === 'inet')?.local,
        `192.168.77.${10 + n}`,
      );
      assert.equal(f.subnetEnv !== 'missing' && f.subnetEnv?.subnet, `10.244.${n}.1/24`);
      const onLink = f.routeGets['192.168.77.12'];
      assert.ok(onLink?.ok);
      assert.deepEqual([onLink.more, onLink.gateway], [null, null]);
      const routed = f.routeGets['172.31.0.9'];
      assert.ok(routed?.ok);
      assert.equal(routed.gateway, '192.168.77.1');
    }
  } finally {
    await ssh.close();
  }
});

test('scripts sent over SSH change the node, and kernel refusals come back as exit codes', async () => {
  const ssh = createSshExec(fleet.sshOptions());
  try {
    const ok = await ssh.run(
      fleet.target('node-1'),
      'ip route replace 10.244.2.0/24 via 192.168.77.12 dev eth0\n',
      {
        timeoutMs: 10_000,
      },
    );
    assert.deepEqual([ok.exitCode, ok.stderr], [0, '']);
    const via = fleet.node('node-1').routeGet('10.244.2.7');
    assert.ok('dev' in via);
    assert.equal(via.gateway, '192.168.77.12');
    const refused = await ssh.run(
      fleet.target('node-1'),
      'ip route add 10.244.3.0/24 via 10.9.9.9 dev eth0\n',
      {
        timeoutMs: 10_000,
      },
    );
    assert.deepEqual([refused.exitCode, refused.stderr], [2, 'Error: Nexthop has invalid gateway.\n']);
    const unknown = await ssh.run(fleet.target('node-1'), 'flanneld --version\n', { timeoutMs: 10_000 });
    assert.deepEqual([unknown.exitCode, unknown.stderr], [127, 'sh: 1: flanneld: not found\n']);
  } finally {
    await ssh.close();
  }
});

test('a node whose host key changed is refused and nothing runs there', async () => {
  await fleet.rotateHostKey('node-4');
  const ssh: NodeExec = createSshExec(fleet.sshOptions());
  try {
    const run = ssh.run(fleet.target('node-4'), 'ip link set eth0 mtu 1400\n', { timeoutMs: 10_000 });
    assert.equal(await accessKind(run), 'host-key-changed');
    assert.equal(fleet.node('node-4').link('eth0')?.mtu, 1500);
    const other = await ssh.run(fleet.target('node-5'), 'ip link set eth0 mtu 1400\n', { timeoutMs: 10_000 });
    assert.equal(other.exitCode, 0);
    assert.equal(fleet.node('node-5').link('eth0')?.mtu, 1400);
  } finally {
    await ssh.close();
  }
});

test('a stopped node is unreachable while the others answer; a hung node times out', async () => {
  await fleet.stop('node-3');
  fleet.hang('node-6');
  const ssh = createSshExec({ ...fleet.sshOptions(), connectTimeoutMs: 5_000 });
  try {
    const names = ['node-7', 'node-3', 'node-6', 'node-8'];
    const kinds = await Promise.all(
      names.map((name) => accessKind(ssh.run(fleet.target(name), 'hostname\n', { timeoutMs: 1_500 }))),
    );
    assert.deepEqual(kinds, ['succeeded', 'unreachable', 'timeout', 'succeeded']);
  } finally {
    fleet.hang('node-6', false);
    await ssh.close();
  }
  await fleet.start('node-3');
  const again = createSshExec(fleet.sshOptions());
  try {
    const r = await again.run(fleet.target('node-3'), 'hostname\n', { timeoutMs: 10_000 });
    assert.equal(r.stdout, 'node-3\n');
  } finally {
    await again.close();
  }
});
