import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePeers } from '../../src/diagnose/path-plan.ts';
import { PingToolError, classifyPing, searchPathMtu, type PingProbe } from '../../src/diagnose/path-mtu.ts';

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i + 1}`);

test('every ordered pair up to 50 nodes; above, each node to its next 5 in a ring', () => {
  const small = choosePeers(names(50), 'auto');
  assert.equal(small.get('node-1')!.length, 49);
  assert.ok(!small.get('node-7')!.includes('node-7'));
  const big = choosePeers(names(51), 'auto');
  assert.deepEqual(big.get('node-1'), ['node-2', 'node-3', 'node-4', 'node-5', 'node-6']);
  assert.deepEqual(big.get('node-50'), ['node-51', 'node-1', 'node-2', 'node-3', 'node-4']);
  // Every node is probed by exactly 5 peers, so a node with a small MTU is still found.
  const receivers = new Map<string, number>();
  for (const peers of big.values()) for (const p of peers) receivers.set(p, (receivers.get(p) ?? 0) + 1);
  assert.ok([...receivers.values()].every((n) => n === 5));
  assert.equal(choosePeers(names(51), 'all').get('node-1')!.length, 50);
  assert.equal(choosePeers(names(3), 7).get('node-1')!.length, 2);
});

/** A path that carries up to `mtu` bytes; `local` makes the sender refuse bigger ones itself. */
const pathOf = (mtu: number | null, opts: { local?: number; noRoute?: boolean } = {}) => {
  const sizes: number[] = [];
  const ping = async (size: number): Promise<PingProbe> => {
    sizes.push(size);
    if (opts.noRoute) return { size, passed: false, reportedMtu: null, noRoute: true, line: 'unreachable' };
    if (opts.local !== undefined && size > opts.local)
      return { size, passed: false, reportedMtu: opts.local, noRoute: false, line: 'message too long' };
    return { size, passed: mtu !== null && size <= mtu, reportedMtu: null, noRoute: false, line: `${size}` };
  };
  return { ping, sizes };
};

test('a healthy path costs one ping at the expected size', async () => {
  const p = pathOf(1500);
  assert.deepEqual(await searchPathMtu(1500, p.ping), { largestPassed: 1500, evidence: [], pings: 1 });
});

test('a black hole is found by binary search to the exact byte', async () => {
  for (const mtu of [1404, 1450, 85, 1499, 576]) {
    const p = pathOf(mtu);
    const m = await searchPathMtu(1500, p.ping);
    assert.equal(m.largestPassed, mtu);
    assert.ok(m.pings <= 13, `${m.pings} pings for ${mtu}`);
    // The first failure, the smallest failing and the largest passing size (no line twice).
    assert.deepEqual(m.evidence, [...new Set(['1500', `${mtu + 1}`, `${mtu}`])]);
  }
});

test('an MTU the kernel names is tried first', async () => {
  const p = pathOf(1500, { local: 1400 });
  const m = await searchPathMtu(1500, p.ping);
  assert.equal(m.largestPassed, 1400);
  assert.deepEqual(p.sizes, [1500, 84, 1400, 1401]);
});

test('no reply at any size, or no route, is null', async () => {
  const dead = pathOf(null);
  assert.equal((await searchPathMtu(1500, dead.ping)).largestPassed, null);
  assert.deepEqual(dead.sizes, [1500, 84]);
  const unrouted = pathOf(null, { noRoute: true });
  assert.deepEqual(await searchPathMtu(1500, unrouted.ping), {
    largestPassed: null,
    evidence: ['unreachable'],
    pings: 1,
  });
});

test('classifyPing reads iputils replies, local errors and unreachable; a missing ping is a tool error', () => {
  const ok = classifyPing('10.244.2.1', 1500, {
    exitCode: 0,
    stdout:
      'PING 10.244.2.1 (10.244.2.1) 1472(1500) bytes of data.\n1480 bytes from 10.244.2.1: icmp_seq=1 ttl=64 time=0.1 ms\n\n--- 10.244.2.1 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\nrtt min/avg/max/mdev = 0.1/0.1/0.1/0.0 ms\n',
    stderr: '',
  });
  assert.equal(ok.passed, true);
  assert.equal(ok.line, 'ping -M do -s 1472 10.244.2.1 (1500 bytes): reply');
  const local = classifyPing('192.168.77.11', 1500, {
    exitCode: 1,
    stdout:
      'PING 192.168.77.11 (192.168.77.11) 1472(1500) bytes of data.\n\n--- 192.168.77.11 ping statistics ---\n1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms\n\n',
    stderr: 'ping: local error: message too long, mtu=1400\n',
  });
  assert.deepEqual([local.passed, local.reportedMtu], [false, 1400]);
  assert.match(local.line, /: ping: local error: message too long, mtu=1400$/);
  const down = classifyPing('10.244.4.1', 1000, {
    exitCode: 2,
    stdout: '',
    stderr: 'ping: connect: Network is unreachable\n',
  });
  assert.deepEqual([down.passed, down.noRoute], [false, true]);
  assert.throws(
    () => classifyPing('10.244.4.1', 1000, { exitCode: 127, stdout: '', stderr: 'sh: 1: ping: not found\n' }),
    (e: unknown) => e instanceof PingToolError && /not installed/.test(e.message),
  );
  assert.throws(
    () =>
      classifyPing('10.244.4.1', 1000, {
        exitCode: 1,
        stdout: '',
        stderr: 'ping: unrecognized option: M\nBusyBox v1.36.1 multi-call binary.\n',
      }),
    PingToolError,
  );
});
