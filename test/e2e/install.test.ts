import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';
import { seedNodes, startSimCluster } from '../helpers/sim.ts';

const install = (kubeconfig: string, ...args: string[]) =>
  runCli(['install', '--kubeconfig', kubeconfig, '--timeout', '30s', ...args]);

test('install creates flannel, waits for every node, and a second run changes nothing', async () => {
  const sim = await startSimCluster({ nodes: seedNodes(3) });
  try {
    const first = await install(sim.kubeconfig, '--backend', 'host-gw');
    assert.equal(first.code, 0, first.stderr);
    for (const line of [
      'namespace/kube-flannel created',
      'clusterrole.rbac.authorization.k8s.io/flannel created',
      'configmap/kube-flannel-cfg created',
      'daemonset.apps/kube-flannel-ds created',
    ]) {
      assert.ok(first.stdout.includes(line), `stdout has "${line}":\n${first.stdout}`);
    }
    assert.match(first.stdout, /3\/3 nodes ready/);
    for (const node of ['node-1', 'node-2', 'node-3']) {
      assert.match(first.stderr, new RegExp(`${node}: kube-flannel-ds-\\w+ is Ready`));
    }
    const cm = sim.api.get('configmaps', 'kube-flannel', 'kube-flannel-cfg') as {
      data: Record<string, string>;
    };
    assert.equal(
      (JSON.parse(cm.data['net-conf.json']!) as { Backend: { Type: string } }).Backend.Type,
      'host-gw',
    );
    const pods = sim.api.list('pods', 'kube-flannel', 'app=flannel');
    assert.equal(pods.length, 3);

    sim.api.requests.clear();
    const second = await install(sim.kubeconfig, '--backend', 'host-gw');
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      /No changes: flannel v0\.28\.9 \(host-gw, network 10\.244\.0\.0\/16\) is already installed/,
    );
    assert.deepEqual(sim.api.requests.writes(), [], 'a second run makes no write requests');

    const again = await install(sim.kubeconfig, '-o', 'json');
    const result = JSON.parse(again.stdout) as {
      changed: boolean;
      backend: string;
      rollout: { done: boolean };
    };
    assert.equal(result.changed, false);
    assert.equal(result.backend, 'host-gw', 'the live backend is kept when --backend is not given');
    assert.equal(result.rollout.done, true);
  } finally {
    await sim.close();
  }
});

test('install refuses to switch the backend of a live cluster and points at migrate', async () => {
  const sim = await startSimCluster({ nodes: seedNodes(2) });
  try {
    assert.equal((await install(sim.kubeconfig, '--backend', 'vxlan')).code, 0);
    sim.api.requests.clear();
    const r = await install(sim.kubeconfig, '--backend', 'host-gw');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already runs the vxlan backend/);
    assert.match(r.stderr, /flannelctl migrate --to host-gw/);
    assert.deepEqual(sim.api.requests.writes(), []);
  } finally {
    await sim.close();
  }
});

test('a changed setting on an existing install is applied and flannel restarted to read it', async () => {
  const sim = await startSimCluster({ nodes: seedNodes(2) });
  try {
    assert.equal((await install(sim.kubeconfig, '--backend', 'vxlan')).code, 0);
    const diff = await install(sim.kubeconfig, '--no-hairpin', '--diff');
    assert.equal(diff.code, 1, 'diff exits 1 when objects differ, like kubectl diff');
    assert.match(diff.stdout, /-\s+"hairpinMode": true/);
    assert.match(diff.stdout, /\+\s+"hairpinMode": false/);
    const r = await install(sim.kubeconfig, '--no-hairpin');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configmap\/kube-flannel-cfg configured/);
    assert.match(r.stdout, /daemonset.apps\/kube-flannel-ds restarted/);
    const ds = sim.api.get('daemonsets', 'kube-flannel', 'kube-flannel-ds') as {
      spec: { template: { metadata: { annotations?: Record<string, string> } } };
    };
    assert.ok(ds.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']);
    const clean = await install(sim.kubeconfig, '--diff');
    assert.equal(clean.code, 0);
    assert.match(clean.stdout, /No differences/);
  } finally {
    await sim.close();
  }
});

test('podCIDRs outside the network are rejected before anything is applied', async () => {
  const sim = await startSimCluster({ nodes: seedNodes(2, '10.42') });
  try {
    const implicit = await install(sim.kubeconfig, '--backend', 'host-gw');
    assert.equal(implicit.code, 2);
    assert.match(
      implicit.stderr,
      /--network is required: node podCIDRs such as 10\.42\.1\.0\/24 are outside the default/,
    );
    assert.match(implicit.stderr, /--network 10\.42\.0\.0\/16/);
    const explicit = await install(sim.kubeconfig, '--backend', 'host-gw', '--network', '10.244.0.0/16');
    assert.equal(explicit.code, 2);
    assert.match(explicit.stderr, /node-1/);
    assert.match(explicit.stderr, /10\.42\.1\.0\/24/);
    assert.deepEqual(sim.api.requests.writes(), []);
    const ok = await install(sim.kubeconfig, '--backend', 'host-gw', '--network', '10.42.0.0/16');
    assert.equal(ok.code, 0, ok.stderr);
  } finally {
    await sim.close();
  }
});

test('missing RBAC permission is reported up front and nothing is applied', async () => {
  const sim = await startSimCluster({ nodes: seedNodes(1) });
  try {
    sim.api.faults.forbid({ verb: 'create', resource: 'daemonsets' });
    const r = await install(sim.kubeconfig, '--backend', 'host-gw');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /may not create daemonsets\.apps in kube-flannel; nothing was changed/);
    assert.deepEqual(sim.api.requests.writes(), []);
  } finally {
    await sim.close();
  }
});

test('a node whose flannel pod never becomes Ready fails the wait with its name', async () => {
  const sim = await startSimCluster({ nodes: seedNodes(2) });
  try {
    sim.api.faults.neverReady('node-2');
    const r = await runCli([
      'install',
      '--kubeconfig',
      sim.kubeconfig,
      '--timeout',
      '2s',
      '--backend',
      'host-gw',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /timed out after 2s waiting for daemonset kube-flannel\/kube-flannel-ds/);
    assert.match(r.stderr, /not ready: node-2/);
  } finally {
    await sim.close();
  }
});

test('an unreadable kubeconfig is a usage error; an unreachable API is a clear failure', async () => {
  const missing = await runCli([
    'install',
    '--backend',
    'host-gw',
    '--kubeconfig',
    '/nonexistent/kubeconfig',
  ]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /kubeconfig \/nonexistent\/kubeconfig does not exist/);

  const sim = await startSimCluster({ nodes: [] });
  const kubeconfig = sim.kubeconfig;
  await sim.api.close();
  const down = await runCli(['install', '--backend', 'host-gw', '--kubeconfig', kubeconfig]);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach the Kubernetes API at http:\/\/127\.0\.0\.1:\d+/);
  await sim.close().catch(() => undefined);
});

test('an unknown --context is a usage error listing the contexts', async () => {
  const sim = await startSimCluster({ nodes: [] });
  try {
    const r = await runCli([
      'install',
      '--backend',
      'host-gw',
      '--kubeconfig',
      sim.kubeconfig,
      '--context',
      'prod',
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /context "prod" is not in .*kubeconfig/);
    assert.match(r.stderr, /use one of: flannelctl-sim/);
  } finally {
    await sim.close();
  }
});

test('an install from the release asset keeps its immutable selector; asking for the other one is refused', async () => {
  const { renderManifest } = await import('../../src/flannel/manifest.ts');
  const released = renderManifest({ backend: 'vxlan', selectorVariant: 'release' });
  const sim = await startSimCluster({ nodes: seedNodes(2), objects: released });
  try {
    sim.api.requests.clear();
    const conflict = await install(sim.kubeconfig, '--no-ip-masq');
    assert.equal(conflict.code, 1);
    assert.match(conflict.stderr, /conflict with "seed"/);
    assert.match(conflict.stderr, /rerun with --force-conflicts/);
    assert.deepEqual(
      sim.api.requests.writes(),
      [],
      'a conflict found by the server-side dry run stops before any write',
    );
    const keep = await install(sim.kubeconfig, '--no-ip-masq', '--force-conflicts');
    assert.equal(keep.code, 0, keep.stderr);
    const ds = sim.api.get('daemonsets', 'kube-flannel', 'kube-flannel-ds') as {
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    assert.deepEqual(ds.spec.selector.matchLabels, { app: 'flannel', 'k8s-app': 'flannel' });
    sim.api.requests.clear();
    const other = await install(sim.kubeconfig, '--selector-variant', 'documentation');
    assert.equal(other.code, 2);
    assert.match(other.stderr, /whose selector is release/);
    assert.deepEqual(sim.api.requests.writes(), []);
  } finally {
    await sim.close();
  }
});

test('transient API errors (503) are retried; a persistent one fails with the cause', async () => {
  const sim = await startSimCluster({ nodes: seedNodes(1) });
  try {
    sim.api.faults.failNext({ method: 'PATCH', status: 503, count: 2 });
    const r = await install(sim.kubeconfig, '--backend', 'host-gw');
    assert.equal(r.code, 0, r.stderr);
    const failed = sim.api.requests.records.filter((q) => q.status === 503);
    assert.equal(failed.length, 2, 'the two injected failures were served and retried');

    sim.api.faults.failNext({ method: 'PATCH', status: 500, count: Infinity });
    const r2 = await install(sim.kubeconfig, '--no-ip-masq');
    assert.equal(r2.code, 1);
    // --no-ip-masq changes cni-conf.json ("ipMasq": false) first, then the DaemonSet args.
    assert.match(r2.stderr, /error: apply configmap\/kube-flannel-cfg: .*\(500/);
  } finally {
    await sim.close();
  }
});
