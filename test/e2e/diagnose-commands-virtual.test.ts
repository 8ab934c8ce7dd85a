// verify-l2, check-rpfilter, tune and status end to end on a simulated cluster (API emulator, flannel
// agents, virtual nodes over SSH): what they print, what they change on the nodes, and their exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';
import type { VirtualNodeOptions } from '../../src/sim/virtual-node/create-node.ts';
import type { Report } from '../../src/report/report.ts';

const RP_FILE = '/etc/sysctl.d/90-flannelctl-rp-filter.conf';
const TUNE_FILE = '/etc/sysctl.d/90-flannelctl-tune.conf';

const nodes = (overrides: Record<string, Partial<VirtualNodeOptions>> = {}): VirtualNodeOptions[] =>
  [1, 2, 3].map((i) => ({
    name: `node-${i}`,
    address: `192.168.77.${10 + i}`,
    podCIDR: `10.244.${i}.0/24`,
    ...overrides[`node-${i}`],
  }));

/** A second uplink with its own default route: the node's paths become asymmetric. */
/**
 * A second uplink that carries the best route back to node-1's pods: their packets arrive on flannel.1
 * but the reverse path leaves via eth1, which strict rp_filter drops. (A backup default route with a
 * higher metric would not: the reverse-path lookup uses the best route only, fib_frontend.c.)
 */
const addSecondUplink = (cluster: VirtualCluster, name: string): void => {
  const node = cluster.node(name);
  node.addLink({ name: 'eth1', kind: 'veth', peerIndex: 1001, peerNetnsId: 0 });
  assert.equal(node.addrAdd('eth1', '10.99.0.12/24').ok, true);
  const firstPods = cluster.node('node-1').routes.find((r) => r.dev === 'cni0' && r.family === 'inet')!.dst;
  node.routeDel({ dst: firstPods });
  assert.equal(node.routeAdd({ dst: firstPods, gateway: '10.99.0.1', dev: 'eth1' }).ok, true);
};

const rpFilters = (cluster: VirtualCluster, name: string): Record<string, string> =>
  Object.fromEntries(
    ['all', 'eth0', 'cni0', 'flannel.1'].map((i) => [
      i,
      cluster.node(name).sysctls.get(`net/ipv4/conf/${i}/rp_filter`)!,
    ]),
  );

test('check-rpfilter: strict on an asymmetric node fails; --dry-run and a refused --fix change nothing; --fix --yes fixes and persists it', async (t) => {
  const cluster = await startVirtualCluster({
    nodes: nodes({ 'node-2': { rpFilter: 1 } }),
    backend: 'vxlan',
  });
  t.after(() => cluster.close());
  addSecondUplink(cluster, 'node-2');
  const run = (...args: string[]) => runCli(['check-rpfilter', ...cluster.cliArgs(), ...args]);

  const before = await run('-o', 'json');
  assert.equal(before.code, 1, before.stderr);
  const report = JSON.parse(before.stdout) as Report;
  assert.equal(report.kind, 'RpFilterReport');
  assert.deepEqual(
    report.findings.filter((f) => f.severity === 'fail').map((f) => `${f.code} ${f.node}`),
    ['rp-filter/strict-asymmetric node-2'],
  );

  const strict = { all: '1', eth0: '1', cni0: '1', 'flannel.1': '1' };
  const dry = await run('--fix', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^# node-2\n/);
  assert.match(
    dry.stdout,
    /^sysctl -w net\.ipv4\.conf\.all\.rp_filter=2 net\.ipv4\.conf\.eth0\.rp_filter=2 net\.ipv4\.conf\.cni0\.rp_filter=2 net\/ipv4\/conf\/flannel\.1\/rp_filter=2$/m,
  );
  assert.match(dry.stdout, /> \/etc\/sysctl\.d\/90-flannelctl-rp-filter\.conf$/m);
  assert.doesNotMatch(dry.stdout, /node-1|node-3/, 'only the strict node is in the plan');
  assert.deepEqual(rpFilters(cluster, 'node-2'), strict);
  assert.equal(cluster.node('node-2').files.get(RP_FILE), undefined);

  const refused = await run('--fix');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--fix .*no terminal.*nothing was changed/);
  assert.match(refused.stderr, /pass --yes/);
  assert.deepEqual(rpFilters(cluster, 'node-2'), strict);

  const fixed = await run('--fix', '--yes', '-o', 'json');
  assert.equal(fixed.code, 0, fixed.stderr + fixed.stdout);
  assert.equal((JSON.parse(fixed.stdout) as Report).summary.fail, 0);
  assert.match(
    fixed.stderr,
    /node-2: rp_filter = 2 on all, eth0, cni0, flannel\.1; persisted in \/etc\/sysctl\.d\//,
  );
  assert.deepEqual(rpFilters(cluster, 'node-2'), { all: '2', eth0: '2', cni0: '2', 'flannel.1': '2' });
  assert.equal(
    cluster.node('node-2').files.get(RP_FILE),
    '# Written by flannelctl check-rpfilter --fix: loose reverse-path filtering for flannel\n' +
      'net.ipv4.conf.all.rp_filter = 2\nnet.ipv4.conf.eth0.rp_filter = 2\nnet.ipv4.conf.cni0.rp_filter = 2\n' +
      'net/ipv4/conf/flannel.1/rp_filter = 2\n',
  );
  assert.equal(cluster.node('node-1').files.get(RP_FILE), undefined, 'a loose node is left alone');

  const after = await run();
  assert.equal(after.code, 0, after.stdout);
});

test('check-rpfilter --fix: an unreachable node is reported, the others are still fixed (exit 3)', async (t) => {
  const cluster = await startVirtualCluster({
    nodes: nodes({ 'node-1': { rpFilter: 1 }, 'node-3': { rpFilter: 1 } }),
    backend: 'vxlan',
  });
  t.after(() => cluster.close());
  await cluster.fleet.stop('node-3');
  const r = await runCli(['check-rpfilter', ...cluster.cliArgs(), '--fix', '--yes']);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stderr, /node-3 could not be reached/);
  assert.equal(rpFilters(cluster, 'node-1').all, '2');
  assert.equal(rpFilters(cluster, 'node-3').all, '1');
  assert.match(r.stdout, /Node node-3 unreachable/);
});

test('check-rpfilter: --dry-run without --fix is a usage error', async () => {
  const r = await runCli(['check-rpfilter', '--dry-run', '--kubeconfig', '/nonexistent/kubeconfig']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--dry-run goes with --fix/);
});

test("tune: the guide's values with verdict and reason; --apply --yes sets only the recommended ones", async (t) => {
  const cluster = await startVirtualCluster({ nodes: nodes(), backend: 'host-gw' });
  t.after(() => cluster.close());
  cluster.node('node-1').setSysctl('net/ipv4/tcp_available_congestion_control', 'reno cubic bbr');
  const run = (...args: string[]) => runCli(['tune', ...cluster.cliArgs(), '--no-color', ...args]);
  const untouched = (name: string) =>
    [
      'net/core/rmem_default',
      'net/core/wmem_default',
      'net/ipv4/tcp_congestion_control',
      'net/ipv4/tcp_fastopen',
      'net/netfilter/nf_conntrack_max',
    ].map((k) => cluster.node(name).sysctls.get(k));
  const before = untouched('node-1');
  assert.deepEqual(before, ['212992', '212992', 'cubic', '1', '262144']);

  const table = await run();
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /net\.core\.rmem_max\s+│ 134217728\s+│ recommended\s+│ 212992/);
  assert.match(table.stdout, /net\.core\.rmem_default\s+│ 134217728\s+│ not recommended\s+│ 212992/);
  assert.match(table.stdout, /net\.netfilter\.nf_conntrack_max\s+│ 1000000\s+│ informational\s+│ 262144/);
  assert.match(
    table.stdout,
    /^ {2}net\.core\.rmem_default \(not recommended\): Global, not per network namespace/m,
  );

  const json = await run('-o', 'json');
  const report = JSON.parse(json.stdout) as Report;
  assert.deepEqual(
    report.tuneSettings!.filter((s) => s.verdict === 'recommended').map((s) => s.key),
    ['net.core.rmem_max', 'net.core.wmem_max'],
  );
  assert.deepEqual(report.tuneSettings!.find((s) => s.key === 'net.ipv4.tcp_fastopen')!.values, [
    { current: 1, nodes: ['node-1', 'node-2', 'node-3'] },
  ]);

  const dry = await run('--apply', '--dry-run');
  assert.equal(dry.code, 0);
  assert.match(
    dry.stdout,
    /^# node-1, node-2, node-3\nsysctl -w net\.core\.rmem_max=134217728 net\.core\.wmem_max=134217728\n/,
  );
  assert.doesNotMatch(dry.stdout, /default|congestion|fastopen|conntrack|max_size/);
  assert.equal(cluster.node('node-2').sysctls.get('net/core/rmem_max'), '212992');

  const refused = await run('--apply');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /pass --yes/);

  const applied = await run('--apply', '--yes');
  assert.equal(applied.code, 0, applied.stderr);
  for (const name of ['node-1', 'node-2']) {
    assert.equal(cluster.node(name).sysctls.get('net/core/rmem_max'), '134217728');
    assert.deepEqual(untouched(name), before, `${name}: nothing it does not recommend, bbr offered or not`);
  }
  assert.equal(
    cluster.node('node-2').files.get(TUNE_FILE),
    '# Written by flannelctl tune: host-gw throughput settings\nnet.core.rmem_max = 134217728\nnet.core.wmem_max = 134217728\n',
  );
  assert.match(applied.stdout, /PASS\s+│ tune/);
});

test('tune --apply NAME: a not-recommended name is refused unless --against-advice, an informational one always', async (t) => {
  const cluster = await startVirtualCluster({ nodes: nodes(), backend: 'host-gw' });
  t.after(() => cluster.close());
  cluster.node('node-1').setSysctl('net/ipv4/tcp_available_congestion_control', 'reno cubic bbr');
  const run = (...args: string[]) => runCli(['tune', ...cluster.cliArgs(), '--no-color', ...args]);

  const notRecommended = await run('--apply', 'net.ipv4.tcp_fastopen', '--yes');
  assert.equal(notRecommended.code, 2);
  assert.match(notRecommended.stderr, /net\.ipv4\.tcp_fastopen is not recommended: Per network namespace/);
  assert.match(notRecommended.stderr, /flannelctl tune --apply net\.ipv4\.tcp_fastopen --against-advice/);
  const kubeProxy = await run('--apply', 'net.netfilter.nf_conntrack_max', '--against-advice', '--yes');
  assert.equal(kubeProxy.code, 2);
  assert.match(kubeProxy.stderr, /tune does not set net\.netfilter\.nf_conntrack_max: Managed by kube-proxy/);
  const unnamed = await run('--apply', '--against-advice', '--yes');
  assert.equal(unnamed.code, 2);
  assert.match(unnamed.stderr, /--against-advice applies only to settings you name/);
  assert.equal(cluster.node('node-1').sysctls.get('net/ipv4/tcp_fastopen'), '1');
  assert.equal(cluster.node('node-1').sysctls.get('net/core/rmem_max'), '212992');

  const against = await run('--apply', 'net.ipv4.tcp_congestion_control', '--against-advice', '--yes');
  assert.equal(against.code, 0, against.stderr);
  assert.match(against.stderr, /bbr is not offered by the kernel on node-2, node-3 .*left as it is there/);
  assert.equal(cluster.node('node-1').sysctls.get('net/ipv4/tcp_congestion_control'), 'bbr');
  assert.equal(cluster.node('node-2').sysctls.get('net/ipv4/tcp_congestion_control'), 'cubic');
  assert.equal(cluster.node('node-1').sysctls.get('net/core/rmem_max'), '212992', 'only the named setting');
  assert.equal(
    cluster.node('node-1').files.get('/etc/sysctl.d/90-flannelctl-tune-against-advice.conf'),
    '# Written by flannelctl tune --against-advice: settings flannelctl does not recommend\nnet.ipv4.tcp_congestion_control = bbr\n',
  );
  assert.equal(cluster.node('node-1').files.has(TUNE_FILE), false);
});

test('verify-l2: a node on another subnet is routed; the matrix, the advice and the JSON matrix say so', async (t) => {
  const cluster = await startVirtualCluster({
    nodes: nodes({ 'node-3': { address: '192.168.78.13' } }),
    backend: 'vxlan',
  });
  t.after(() => cluster.close());
  const text = await runCli(['verify-l2', ...cluster.cliArgs(), '--no-color']);
  assert.equal(text.code, 1, text.stderr);
  assert.match(text.stdout, /^node-1 +· +L2 +R$/m);
  assert.match(text.stdout, /^node-3 +R +R +·$/m);
  assert.match(text.stdout, /2 L2 segments: \[2 nodes: node-1, node-2\] \[1 nodes: node-3\]/);
  assert.match(text.stdout, /node-1 → node-3 via 192\.168\.77\.1/);
  assert.match(text.stdout, /host-gw cannot work for them/);
  assert.match(text.stdout, /flannelctl migrate --to vxlan --direct-routing/);
  assert.match(text.stdout, /flannelctl install --backend vxlan-directrouting/);

  const json = await runCli(['verify-l2', ...cluster.cliArgs(), '-o', 'json']);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as Report;
  assert.equal(report.kind, 'VerifyL2Report');
  assert.deepEqual(report.l2Matrix?.segments, [['node-1', 'node-2'], ['node-3']]);
  assert.deepEqual(report.l2Matrix?.cells[0], ['self', 'adjacent', 'routed']);
  assert.equal(report.l2Matrix?.counts.routed, 4);
});

test('verify-l2 passes when every node shares one segment', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'host-gw' });
  t.after(() => cluster.close());
  const r = await runCli(['verify-l2', ...cluster.cliArgs(), '--no-color']);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /1 L2 segment: \[3 nodes/);
  assert.doesNotMatch(r.stdout, /migrate/);
});

test('status: flannel columns per node, JSON rows, and the topology as Mermaid and DOT', async (t) => {
  const cluster = await startVirtualCluster({
    nodes: nodes({ 'node-3': { address: '192.168.78.13' } }),
    backend: 'vxlan',
  });
  t.after(() => cluster.close());
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-status-'));
  const md = join(dir, 'network.md');
  const text = await runCli(['status', ...cluster.cliArgs(), '--topology', md]);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.trimEnd().split('\n');
  assert.match(
    lines[0]!,
    /^NAME +POD-CIDR +PUBLIC-IP +BACKEND +PEER-ROUTES +FLANNEL +RESTARTS +NODE-ACCESS$/,
  );
  assert.match(lines[1]!, /^node-1 +10\.244\.1\.0\/24 +192\.168\.77\.11 +vxlan +2\/2 +Ready +0 +reachable$/);
  assert.match(lines[3]!, /^node-3 +10\.244\.3\.0\/24 +192\.168\.78\.13 +vxlan +2\/2 +Ready +0 +reachable$/);

  const mermaid = readFileSync(md, 'utf8');
  assert.match(mermaid, /^```mermaid\n/m);
  assert.match(mermaid, /^flowchart LR$/m);
  assert.match(mermaid, /subgraph s1\["L2 segment 1 \(2 nodes\)"\]/);
  assert.match(mermaid, /n1\["node-1<br\/>192\.168\.77\.11<br\/>pods 10\.244\.1\.0\/24"\]/);
  assert.match(mermaid, /n1 ---\|"via flannel\.1"\| n3/);
  assert.match(mermaid, /^```$/m);

  const dot = join(dir, 'network.dot');
  const json = await runCli(['status', ...cluster.cliArgs(), '-o', 'json', '--topology', dot]);
  assert.equal(json.code, 0);
  const report = JSON.parse(json.stdout) as Report;
  assert.equal(report.kind, 'StatusReport');
  assert.deepEqual(
    report.nodeStatus?.map((s) => [s.name, s.backend, s.peerRoutes, s.flannelPod?.ready, s.reachability]),
    [
      ['node-1', 'vxlan', 2, true, 'reachable'],
      ['node-2', 'vxlan', 2, true, 'reachable'],
      ['node-3', 'vxlan', 2, true, 'reachable'],
    ],
  );
  const graph = readFileSync(dot, 'utf8');
  assert.match(graph, /^graph flannel \{$/m);
  assert.match(
    graph,
    /subgraph cluster_s2 \{\n {4}label="L2 segment 2 \(1 node\)";\n {4}n3 \[label="node-3\\n192\.168\.78\.13\\npods 10\.244\.3\.0\/24"\];/,
  );
  assert.match(graph, /n1 -- n2 \[label="via flannel\.1"\];/);
});

test('status: a stopped node is unreachable (exit 3); a bad --topology name is a usage error', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
  t.after(() => cluster.close());
  const bad = await runCli(['status', ...cluster.cliArgs(), '--topology', join(tmpdir(), 'network.png')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--topology .*network\.png: unknown format/);
  await cluster.fleet.stop('node-2');
  const r = await runCli(['status', ...cluster.cliArgs()]);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /^node-1 .* 1\/1 +Ready +0 +reachable$/m);
  assert.match(r.stdout, /^node-2 .* \? +Ready +0 +unreachable \(/m);
});
