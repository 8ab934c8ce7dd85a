// doctor end to end on a simulated cluster: the API emulator, flannel agents and virtual nodes over SSH.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { startVirtualCluster } from '../../src/sim/virtual-cluster.ts';
import type { Report } from '../../src/report/report.ts';

const failing = (report: Report) =>
  report.findings
    .filter((f) => f.severity === 'fail')
    .map((f) => `${f.code} ${f.node ?? ''} ${f.peer ?? ''}`.trim());

test('doctor passes a healthy host-gw cluster and names each injected fault with its node', async (t) => {
  // flanneld re-adds a missing host-gw route every 10 s; keep that slow so the fault stays visible.
  const cluster = await startVirtualCluster({ nodes: 4, backend: 'host-gw', routeCheckIntervalMs: 600_000 });
  t.after(() => cluster.close());
  const doctor = (...args: string[]) => runCli(['doctor', ...cluster.cliArgs(), ...args]);

  const healthy = await doctor('-o', 'json');
  assert.equal(healthy.code, 0, healthy.stderr + healthy.stdout);
  const report = JSON.parse(healthy.stdout) as Report;
  assert.equal(report.kind, 'DoctorReport');
  assert.deepEqual(failing(report), []);
  assert.equal(report.expectedBackend.value, 'host-gw');
  assert.equal(report.nodes.filter((n) => n.reachable).length, 4);

  // A route deleted behind flannel's back, and ip_forward off on another node.
  cluster.node('node-2').routeDel({ dst: '10.244.3.0/24' });
  cluster.node('node-4').setSysctl('net/ipv4/ip_forward', '0');
  const broken = await doctor('-o', 'json');
  assert.equal(broken.code, 1, broken.stderr);
  const faults = failing(JSON.parse(broken.stdout) as Report);
  assert.ok(
    faults.some((f) => f.startsWith('routes/missing node-2') && f.includes('node-3')),
    faults.join('\n'),
  );
  assert.ok(
    faults.some((f) => f.startsWith('kernel/ip-forward-off node-4')),
    faults.join('\n'),
  );
  assert.ok(
    faults.every((f) => / node-[24]/.test(` ${f}`)),
    `only node-2 and node-4 fail:\n${faults.join('\n')}`,
  );
});

test('doctor text output, JUnit file, and an unreachable node ending with exit 3', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'vxlan' });
  t.after(() => cluster.close());
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-doctor-'));
  await cluster.fleet.stop('node-3');
  const junit = join(dir, 'doctor.xml');
  const r = await runCli(['doctor', ...cluster.cliArgs(), '--junit-file', junit, '--no-color', '-v']);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stderr, /node-3 \(127\.0\.0\.1\): .*(refused|reach)/i);
  assert.match(
    r.stderr,
    /^node-1: 127\.0\.0\.1 \(.*inventory.*\)$/m,
    '-v says where each node is reached and why',
  );
  assert.match(r.stdout, /node-3/);
  assert.match(r.stdout, /vxlan/);
  const xml = readFileSync(junit, 'utf8');
  assert.match(xml, /^<\?xml/);
  assert.match(xml, /<testsuites[^>]*>/);
  assert.match(xml, /<testcase classname="flannelctl\.routes" name="node-1"/);
  assert.match(xml, /<testcase classname="flannelctl\.routes" name="node-3"[^>]*>\s*<skipped/);
});

test('doctor --for host-gw on a vxlan cluster: a node behind a router makes the preflight fail', async (t) => {
  const cluster = await startVirtualCluster({
    nodes: [
      { name: 'node-1', address: '192.168.77.11', podCIDR: '10.244.1.0/24' },
      { name: 'node-2', address: '192.168.77.12', podCIDR: '10.244.2.0/24' },
      { name: 'node-3', address: '192.168.78.13', podCIDR: '10.244.3.0/24' },
    ],
    backend: 'vxlan',
  });
  t.after(() => cluster.close());
  const plain = await runCli(['doctor', ...cluster.cliArgs(), '-o', 'json']);
  assert.equal(plain.code, 0, `vxlan itself is healthy: ${plain.stdout}`);
  const pre = await runCli(['doctor', ...cluster.cliArgs(), '--for', 'host-gw', '-o', 'json']);
  assert.equal(pre.code, 1);
  const report = JSON.parse(pre.stdout) as Report;
  assert.deepEqual(
    report.checks.map((c) => c.id),
    ['flannel-health', 'config', 'l2-adjacency', 'host-gw', 'rp-filter', 'mixed-window', 'kernel'],
  );
  const routed = report.findings.filter((f) => f.severity === 'fail' && f.check === 'l2-adjacency');
  assert.ok(routed.length > 0);
  assert.ok(
    routed.every((f) => f.node === 'node-3' || f.peer === 'node-3'),
    JSON.stringify(routed, null, 1),
  );
});

test('bad doctor input is a usage error before any node is contacted', async () => {
  const r = await runCli(['doctor', '--checks', 'routes,bogus', '--kubeconfig', '/nonexistent/kubeconfig']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown check "bogus"/);
});

test('an unreadable inventory is a usage error naming the file', async () => {
  const r = await runCli(['doctor', '--inventory', '/nonexistent.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--inventory \/nonexistent\.yaml: no such file/);
});
