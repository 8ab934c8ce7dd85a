// mtu-probe end to end on simulated clusters: virtual nodes over SSH answer don't-fragment pings from
// their model (a veth accepts up to MTU + 4, replies above the return MTU are fragmented).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';
import { startVirtualCluster } from '../../src/sim/virtual-cluster.ts';
import { defaultNodeOptions } from '../../src/sim/virtual-node/fleet.ts';
import type { Report } from '../../src/report/report.ts';

const notPassing = (report: Report): string[] =>
  report.findings
    .filter((f) => f.severity === 'fail' || f.severity === 'warn')
    .map((f) => `${f.severity} ${f.code} ${f.node ?? ''}${f.peer ? ` -> ${f.peer}` : ''}`)
    .sort();

test('mtu-probe passes a healthy host-gw cluster, every path at 1500', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 4, backend: 'host-gw' });
  t.after(() => cluster.close());
  const json = await runCli(['mtu-probe', ...cluster.cliArgs(), '-o', 'json']);
  assert.equal(json.code, 0, json.stderr + json.stdout);
  const report = JSON.parse(json.stdout) as Report;
  assert.equal(report.kind, 'MtuProbeReport');
  assert.deepEqual(notPassing(report), []);
  const paths = report.findings.filter((f) => f.code === 'mtu/path-ok');
  assert.equal(paths.length, 4 * 3 * 2, 'every ordered pair, node and pod path');
  assert.ok(paths.every((f) => / carries 1500 bytes \(expected 1500\)/.test(f.message)));

  const text = await runCli(['mtu-probe', ...cluster.cliArgs(), '--no-color']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /every pair of 4 nodes/);
  assert.match(text.stdout, /FROM\s+TO\s+NODE\s+POD/);
  assert.match(text.stdout, /node-2\s+node-4\s+1500\/1500\s+1500\/1500/);
});

test('a node without pods (no cni0): its node paths are measured, its pod path skipped with the reason', async (t) => {
  const nodes = defaultNodeOptions(3).map((n) => (n.name === 'node-3' ? { ...n, pods: 0 } : n));
  const cluster = await startVirtualCluster({ nodes, backend: 'host-gw' });
  t.after(() => cluster.close());
  const r = await runCli(['mtu-probe', ...cluster.cliArgs(), '-o', 'json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout) as Report;
  assert.deepEqual(notPassing(report), []);
  const paths = report.findings.filter((f) => f.code === 'mtu/path-ok');
  assert.equal(paths.length, 3 * 2 + 2 * 2, 'node paths of every pair, pod paths only toward pods');
  assert.match(r.stderr, /node-1 → node-3: no pods on node-3 .* pod path is not measured; the node path is/);
});

test('a node with MTU 1400 on eth0: its inbound pairs are named with the sizes that crossed', async (t) => {
  const nodes = defaultNodeOptions(4).map((n) => (n.name === 'node-3' ? { ...n, mtu: 1400 } : n));
  const cluster = await startVirtualCluster({ nodes, backend: 'host-gw' });
  t.after(() => cluster.close());
  const r = await runCli(['mtu-probe', ...cluster.cliArgs(), '-o', 'json']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  const senders = ['node-1', 'node-2', 'node-4'];
  assert.deepEqual(
    notPassing(report),
    [
      'fail mtu/uplink-mismatch node-3',
      ...senders.flatMap((s) => [
        `fail mtu/path-mtu-too-small ${s} -> node-3`,
        `fail mtu/path-mtu-too-small ${s} -> node-3`,
      ]),
      // node-3's replies above 1400 bytes were fragmented there and reassembled by the senders.
      ...[...senders, 'node-3'].map((n) => `warn mtu/fragmentation ${n}`),
    ].sort(),
  );
  const tooSmall = report.findings.filter((f) => f.code === 'mtu/path-mtu-too-small');
  assert.ok(
    tooSmall.every((f) => /carries at most 1404 bytes, 1500 expected/.test(f.message)),
    JSON.stringify(tooSmall, null, 1),
  );
  assert.ok(tooSmall.some((f) => f.evidence.some((e) => /-s 1376 .*\(1404 bytes\): reply/.test(e))));
  // node-3 itself sends at most 1400: its own paths are fine.
  const fromNode3 = report.findings.filter((f) => f.code === 'mtu/path-ok' && f.node === 'node-3');
  assert.equal(fromNode3.length, 6);
  assert.ok(fromNode3.every((f) => /carries 1400 bytes \(expected 1400\)/.test(f.message)));

  const text = await runCli(['mtu-probe', ...cluster.cliArgs(), '--no-color', '--nodes', 'node-1,node-3']);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /node-1\s+node-3\s+1404\/1500 ✗\s+1404\/1500 ✗/);
  assert.match(text.stdout, /node-3\s+node-1\s+1400\/1400\s+1400\/1400/);
  assert.match(text.stdout, /path-mtu-too-small/);
});

test('vxlan: a smaller uplink on the peer side cuts the tunnel to 1354-byte inner packets', async (t) => {
  const nodes = defaultNodeOptions(3).map((n) => (n.name === 'node-2' ? { ...n, mtu: 1400 } : n));
  const cluster = await startVirtualCluster({ nodes, backend: 'vxlan' });
  t.after(() => cluster.close());
  const r = await runCli(['mtu-probe', ...cluster.cliArgs(), '-o', 'json', '--nodes', 'node-1,node-2']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  const pod = report.findings.find(
    (f) => f.node === 'node-1' && f.peer === 'node-2' && f.message.includes('a pod on'),
  );
  assert.match(pod?.message ?? '', /carries at most 1354 bytes, 1450 expected/);
});

test('mtu-probe --pairs is validated before anything is contacted', async () => {
  const r = await runCli(['mtu-probe', '--pairs', 'some', '--kubeconfig', '/nonexistent/kubeconfig']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--pairs takes auto, all or a number/);
});
