// migrate end to end on a simulated cluster whose flannel agents really switch backends on pod restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';
import { ANNOTATIONS, CONFIGMAP_NAME, FLANNEL_NAMESPACE, NET_CONF_KEY } from '../../src/flannel/names.ts';
import { BACKUP_ANNOTATION, STATE_ANNOTATION } from '../../src/migrate/annotations.ts';
import type { MigrationResult } from '../../src/migrate/result.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import { defaultNodeOptions } from '../../src/sim/virtual-node/fleet.ts';

const env = () => ({ FLANNELCTL_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'flannelctl-backups-')) });

// A readiness delay keeps each node's step of the rolling restart observable.
const start = () => startVirtualCluster({ nodes: 4, backend: 'vxlan', readyDelayMs: 250 });

const configMap = (c: VirtualCluster): KubeObject =>
  c.flannel.api.get('configmaps', FLANNEL_NAMESPACE, CONFIGMAP_NAME)!;
const data = (c: VirtualCluster) => configMap(c).data as Record<string, string>;
const backendOf = (c: VirtualCluster, node: string) =>
  c.flannel.api.get('nodes', undefined, node)?.metadata?.annotations?.[ANNOTATIONS.backendType];
const migrate = (c: VirtualCluster, e: NodeJS.ProcessEnv, ...args: string[]) =>
  runCli(['migrate', ...c.cliArgs(), ...args], e);
const json = (stdout: string) => JSON.parse(stdout) as MigrationResult;
const NODES = ['node-1', 'node-2', 'node-3', 'node-4'];

test('vxlan -> host-gw with --watch-connectivity --cleanup, a no-op rerun, and back to vxlan', async (t) => {
  const cluster = await start();
  t.after(() => cluster.close());
  const e = env();
  const api = cluster.flannel.api;
  const original = { ...data(cluster) };

  api.requests.clear();
  const dry = await migrate(cluster, e, '--to', 'host-gw', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(api.requests.writes(), [], 'a dry run sends no write request');
  assert.match(dry.stdout, /- {4}"Type": "vxlan"\n\+ {4}"Type": "host-gw"/);
  assert.match(dry.stdout, /step 2: 1 node\(s\) already on host-gw, 3 still on vxlan/);
  assert.match(dry.stdout, /Estimated duration: /);
  assert.match(dry.stdout, /PUT \/api\/v1\/namespaces\/kube-flannel\/configmaps\/kube-flannel-cfg/);
  assert.match(
    dry.stdout,
    /PATCH \/apis\/apps\/v1\/namespaces\/kube-flannel\/daemonsets\/kube-flannel-ds\?fieldManager=flannelctl\n {3}Content-Type: application\/strategic-merge-patch\+json/,
  );
  assert.deepEqual(data(cluster), original);

  const r = await migrate(cluster, e, '--to', 'host-gw', '--watch-connectivity', '--cleanup', '-o', 'json');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const result = json(r.stdout);
  assert.equal(result.kind, 'MigrationResult');
  assert.equal(result.outcome, 'migrated');
  assert.deepEqual(
    result.nodes.map((n) => [n.node, n.backendType, n.verification]),
    NODES.map((n) => [n, 'host-gw', 'verified']),
  );
  for (const n of NODES) assert.equal(backendOf(cluster, n), 'host-gw');
  // Every pod route via the peer's public IP on eth0, none via flannel.1, and flannel.1 gone.
  for (const [i, n] of NODES.entries()) {
    const node = cluster.node(n);
    assert.equal(node.link('flannel.1'), undefined, `flannel.1 deleted on ${n}`);
    for (const [j, peer] of NODES.entries()) {
      if (peer === n) continue;
      const route = node.routes.find((x) => x.dst === `10.244.${j + 1}.0/24`);
      assert.deepEqual([route?.gateway, route?.dev], [`192.168.77.${11 + j}`, 'eth0'], `${n} -> ${peer}`);
    }
    assert.ok(!node.routes.some((x) => x.dev === 'flannel.1'), `no route via flannel.1 on node ${i + 1}`);
  }
  assert.ok(result.connectivity, 'connectivity measured');
  assert.equal(result.connectivity.pairs.length, 12);
  assert.ok(result.connectivity.sent >= 12, JSON.stringify(result.connectivity));
  assert.equal(result.connectivity.lost, 0);
  assert.equal(result.cleanup?.done, true);
  assert.ok(result.cleanup?.staleMtu.every((s) => s.staleVeths.every((v) => v.mtu === 1450)));
  assert.ok(result.backup?.file && existsSync(result.backup.file));
  const saved = JSON.parse(readFileSync(result.backup.file, 'utf8')) as { data: Record<string, string> };
  assert.deepEqual(saved.data, original, 'the local backup holds the original data byte for byte');
  assert.equal(JSON.parse(configMap(cluster).metadata!.annotations![STATE_ANNOTATION]!).phase, 'cleaned-up');

  api.requests.clear();
  const again = await migrate(cluster, e, '--to', 'host-gw');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /No changes: flannel in kube-flannel already runs host-gw on all 4 node\(s\)/);
  assert.deepEqual(api.requests.writes(), [], 'an already migrated cluster gets no write');

  const back = await migrate(cluster, e, '--to', 'vxlan', '-o', 'json');
  assert.equal(back.code, 0, back.stderr + back.stdout);
  assert.equal(json(back.stdout).outcome, 'migrated');
  for (const n of NODES) {
    assert.equal(backendOf(cluster, n), 'vxlan');
    assert.ok(cluster.node(n).link('flannel.1'), `flanneld recreated flannel.1 on ${n}`);
  }
  assert.equal(data(cluster)[NET_CONF_KEY], original[NET_CONF_KEY], 'back to the very same net-conf.json');
});

test('a node without pods (no cni0) is verified at node level: migrate and back exit 0', async (t) => {
  const nodes = defaultNodeOptions(3).map((n) => (n.name === 'node-3' ? { ...n, pods: 0 } : n));
  const cluster = await startVirtualCluster({ nodes, backend: 'vxlan', readyDelayMs: 50 });
  t.after(() => cluster.close());
  assert.equal(cluster.node('node-3').link('cni0'), undefined, 'no pod ever ran on node-3');
  const e = env();
  const r = await migrate(cluster, e, '--to', 'host-gw', '--watch-connectivity');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /node-3 verified at node level/);
  assert.match(
    r.stdout,
    /Verified at pod level \(pod IPs pinged\): node-1, node-2; at node level \(annotation, routes\): node-3/,
  );
  assert.match(r.stdout, /not watched \(no pods to ping\): node-3/);
  assert.match(r.stdout, /node-3 .* node-level: .*no pods/);
  const back = await migrate(cluster, e, '--to', 'vxlan', '-o', 'json');
  assert.equal(back.code, 0, back.stderr + back.stdout);
  const result = json(back.stdout);
  assert.deepEqual(result.verification?.nodeLevel, ['node-3']);
  assert.deepEqual(result.verification?.podLevel, ['node-1', 'node-2']);
});

test('pods that cannot be listed (403): nodes verified at node level and told why, no rollback', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'vxlan', readyDelayMs: 50 });
  t.after(() => cluster.close());
  cluster.flannel.api.faults.failNext({ method: 'GET', path: /^\/api\/v1\/pods$/, status: 403, count: 1000 });
  const r = await migrate(cluster, env(), '--to', 'host-gw', '-o', 'json');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const result = json(r.stdout);
  assert.deepEqual(result.verification?.nodeLevel, ['node-1', 'node-2']);
  assert.ok(
    result.nodes.every((n) => /pods could not be listed/.test(n.message ?? '')),
    r.stdout,
  );
});

test('API 5xx and a 409 conflict during the change are retried; the migration succeeds', async (t) => {
  const cluster = await start();
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  api.faults.failNext({ method: 'PUT', path: /configmaps/, status: 503 });
  api.faults.conflictNext({ method: 'PUT', path: /configmaps/ }, 1);
  api.faults.failNext({ method: 'PATCH', path: /daemonsets/, status: 500 });
  const r = await migrate(cluster, env(), '--to', 'host-gw', '-o', 'json');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(json(r.stdout).outcome, 'migrated');
  const statuses = api.requests.records.filter((x) => x.method !== 'GET').map((x) => x.status);
  assert.ok(statuses.includes(503) && statuses.includes(409) && statuses.includes(500), statuses.join(','));
  for (const n of NODES) assert.equal(backendOf(cluster, n), 'host-gw');
});

test('a flannel pod that never becomes Ready: automatic rollback restores the ConfigMap byte for byte', async (t) => {
  const cluster = await start();
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  const original = { ...data(cluster) };
  // The new backend "crashes" on node-2: its pod never passes readiness until the old config is back.
  api.faults.neverReady('node-2');
  const off = api.onPodStarted(() => {
    if (data(cluster)[NET_CONF_KEY] === original[NET_CONF_KEY]) api.faults.clear();
  });
  t.after(off);
  const r = await migrate(
    cluster,
    env(),
    '--to',
    'host-gw',
    '--timeout',
    '4s',
    '--watch-connectivity',
    '-o',
    'json',
  );
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const result = json(r.stdout);
  assert.equal(result.outcome, 'rolled-back');
  assert.match(result.rollback!.reason, /stalled.*node-2/);
  assert.equal(result.rollback!.restored, true);
  assert.equal(result.rollback!.verified, true);
  assert.deepEqual(data(cluster), original, 'every data key restored byte for byte');
  for (const n of NODES) assert.equal(backendOf(cluster, n), 'vxlan');
  assert.equal(result.verification?.passed, true, 'routes and cni0 pings verified after the rollback');
  assert.equal(result.connectivity?.lost, 0);
  assert.equal(JSON.parse(configMap(cluster).metadata!.annotations![STATE_ANNOTATION]!).phase, 'rolled-back');
});

test('SSH to one node lost during the run is reported, not silent (exit 3)', async (t) => {
  const cluster = await start();
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  let stopped = false;
  const off = api.onPodStarted(async () => {
    if (!stopped && data(cluster)[NET_CONF_KEY]!.includes('host-gw')) {
      stopped = true;
      await cluster.fleet.stop('node-3');
    }
  });
  t.after(off);
  const r = await migrate(cluster, env(), '--to', 'host-gw', '--watch-connectivity', '-o', 'json');
  assert.equal(r.code, 3, r.stderr + r.stdout);
  const result = json(r.stdout);
  assert.equal(result.outcome, 'incomplete');
  assert.match(result.message, /node-3 unreachable over SSH/);
  assert.equal(result.nodes.find((n) => n.node === 'node-3')?.verification, 'unreachable');
  assert.ok(result.connectivity?.errors['node-3'], 'the watcher names the node it lost');
  assert.ok(result.connectivity!.pairs.some((p) => p.from === 'node-3' && p.unmeasured > 0));
  assert.match(r.stderr, /node-3.*NOT verified/);
});

test('an interrupted migration is seen by the next run: a clear message, then --resume finishes it', async (t) => {
  const cluster = await start();
  t.after(() => cluster.close());
  const e = env();
  // Let the first run get as far as changing the config, then "crash" it: its restart never happens.
  cluster.flannel.api.faults.failNext({ method: 'PATCH', path: /daemonsets/, status: 500, count: 100 });
  const crashed = await migrate(cluster, e, '--to', 'host-gw', '--timeout', '3s', '-o', 'json');
  cluster.flannel.api.faults.clear();
  assert.equal(crashed.code, 1);
  // The failed restart rolled the config back; record an unfinished state by hand, as a killed run leaves it.
  const cm = configMap(cluster);
  const backup = cm.metadata!.annotations![BACKUP_ANNOTATION]!;
  const hostGw = (JSON.parse(backup) as { data: Record<string, string> }).data[NET_CONF_KEY]!.replace(
    'vxlan',
    'host-gw',
  );
  const state = {
    id: 'x',
    from: 'vxlan',
    to: 'host-gw',
    phase: 'config-changed',
    startedAt: 'then',
    updatedAt: 'then',
  };
  const res = await fetch(
    `${cluster.flannel.api.url}/api/v1/namespaces/${FLANNEL_NAMESPACE}/configmaps/${CONFIGMAP_NAME}`,
    {
      method: 'PATCH',
      headers: {
        Authorization: `Bearer ${cluster.flannel.api.token}`,
        'Content-Type': 'application/merge-patch+json',
      },
      body: JSON.stringify({
        data: { [NET_CONF_KEY]: hostGw },
        metadata: { annotations: { [STATE_ANNOTATION]: JSON.stringify(state) } },
      }),
    },
  );
  assert.equal(res.status, 200);

  const blocked = await migrate(cluster, e, '--to', 'host-gw');
  assert.equal(blocked.code, 2);
  assert.match(blocked.stderr, /unfinished migration vxlan -> host-gw .*last step: config-changed/);
  assert.match(blocked.stderr, /--resume or undo it with --rollback/);

  const resumed = await migrate(cluster, e, '--resume', '-o', 'json');
  assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
  assert.equal(json(resumed.stdout).outcome, 'migrated');
  for (const n of NODES) assert.equal(backendOf(cluster, n), 'host-gw');

  const rolled = await migrate(cluster, e, '--rollback', '-o', 'json');
  assert.equal(rolled.code, 0, rolled.stderr + rolled.stdout);
  assert.equal(json(rolled.stdout).outcome, 'rolled-back');
  for (const n of NODES) assert.equal(backendOf(cluster, n), 'vxlan');
});

test('a node behind a router makes the preflight refuse, naming the pairs; nothing is written', async (t) => {
  const cluster = await startVirtualCluster({
    nodes: [
      { name: 'node-1', address: '192.168.77.11', podCIDR: '10.244.1.0/24' },
      { name: 'node-2', address: '192.168.77.12', podCIDR: '10.244.2.0/24' },
      { name: 'node-3', address: '192.168.78.13', podCIDR: '10.244.3.0/24' },
    ],
    backend: 'vxlan',
  });
  t.after(() => cluster.close());
  cluster.flannel.api.requests.clear();
  const r = await migrate(cluster, env(), '--to', 'host-gw');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /refusing to migrate to host-gw/);
  assert.match(r.stderr, /l2-adjacency\/routed node-\d <-> node-3|l2-adjacency\/routed node-3/);
  assert.match(r.stderr, /--to vxlan --direct-routing/);
  assert.deepEqual(cluster.flannel.api.requests.writes(), []);
});

test('bad migrate input is a usage error before anything is contacted', async () => {
  const cases: [string[], RegExp][] = [
    [[], /--to is required/],
    [['--to', 'host-gw', '--direct-routing'], /--direct-routing only applies to --to vxlan/],
    [['--resume', '--rollback'], /cannot be used together/],
    [
      ['--rollback', '--backup-file', '/nonexistent.json'],
      /--backup-file \/nonexistent\.json: cannot read it: no such file/,
    ],
    [['--to', 'udp'], /argument 'udp' is invalid/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['migrate', '--kubeconfig', '/nonexistent/kubeconfig', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
