// `flannelctl rbac --for <command>` end to end: the printed manifest, applied to the API emulator, lets a
// CI ServiceAccount run exactly that command (each rule needed: rbac-needed.test.ts; nothing broader:
// rbac-scope.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.ts';
import { addCiUser, applyList, printedRoles } from '../helpers/rbac.ts';
import { seedNodes, startSimCluster } from '../helpers/sim.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';

const printed = async (...args: string[]): Promise<{ kind: string; items: KubeObject[] }> => {
  const r = await runCli(['rbac', ...args, '--sa-namespace', 'ci', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { kind: string; items: KubeObject[] };
};

/** The virtual cluster's flags with the kubeconfig swapped for the CI user's. */
const asUser = (cluster: VirtualCluster, kubeconfig: string): string[] => {
  const args = cluster.cliArgs();
  args[args.indexOf('--kubeconfig') + 1] = kubeconfig;
  return args;
};

test('rbac prints YAML with a reason per rule, and -o json as a v1 List of the same objects', async () => {
  const yaml = await runCli(['rbac', '--for', 'doctor', '--sa-namespace', 'ci']);
  assert.equal(yaml.code, 0, yaml.stderr);
  assert.match(
    yaml.stdout,
    / {2}# the tail of each flannel pod's log .*\n {2}- apiGroups: \[""\]\n {4}resources: \[pods\/log\]\n {4}verbs: \[get\]/,
  );
  const docs = parseAllDocuments(yaml.stdout).map((d) => d.toJS() as KubeObject);
  const list = await printed('--for', 'doctor');
  assert.equal(list.kind, 'List');
  assert.deepEqual(docs, list.items);
  assert.deepEqual(
    docs.map((d) => `${d.kind ?? ''} ${d.metadata?.namespace ?? ''}`.trim()),
    [
      'Namespace',
      'ServiceAccount ci',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role kube-flannel',
      'RoleBinding kube-flannel',
    ],
  );
  const bad = await runCli(['rbac', '--for', 'everything']);
  assert.equal(bad.code, 2);
});

test('doctor runs read-only as a ServiceAccount bound to exactly the printed roles', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'host-gw', routeCheckIntervalMs: 600_000 });
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  applyList(api, await printed('--for', 'doctor'));
  const ci = await addCiUser(api, mkdtempSync(join(tmpdir(), 'flannelctl-rbac-')));
  api.requests.clear();
  const ok = await runCli(['doctor', ...asUser(cluster, ci.kubeconfig), '-o', 'json']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  const mine = api.requests.records.filter((r) => r.user === ci.name);
  assert.ok(mine.length > 0);
  assert.deepEqual(
    mine.filter((r) => r.status >= 400).map((r) => `${r.verb} ${r.path} ${r.status}`),
    [],
  );
  assert.deepEqual(
    api.requests.writes().filter((r) => r.user === ci.name),
    [],
    'doctor sends no write request',
  );
});

test('--namespace-scoped, once needed for Roles, is still accepted and prints the very same manifest', async () => {
  for (const args of [
    ['--for', 'doctor', '--node-access', 'kube-exec'],
    ['--for', 'install'],
    ['--for', 'bench'],
  ])
    assert.deepEqual(await printed(...args, '--namespace-scoped'), await printed(...args), args.join(' '));
});

test('bench: its pods only in its own namespace, which the manifest creates with baseline Pod Security', async () => {
  const list = await printed('--for', 'bench');
  const ns = list.items.find((o) => o.kind === 'Namespace' && o.metadata?.name === 'flannelctl-bench');
  assert.equal(ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce'], 'baseline');
  const podWriters = printedRoles(list)
    .filter((r) => r.rules.some((rule) => rule.resources.includes('pods') && rule.verbs.includes('create')))
    .map((r) => `${r.kind} ${r.namespace ?? ''}`);
  assert.deepEqual(podWriters, ['Role flannelctl-bench']);
});

const installAs = async (printArgs: string[]) => {
  const sim = await startSimCluster({ nodes: seedNodes(3) });
  try {
    applyList(sim.api, await printed('--for', 'install', ...printArgs));
    const ci = await addCiUser(sim.api, mkdtempSync(join(tmpdir(), 'flannelctl-rbac-')));
    const r = await runCli(['install', '--kubeconfig', ci.kubeconfig, '--backend', 'host-gw']);
    const ds = sim.api.get('daemonsets', 'kube-flannel', 'kube-flannel-ds');
    return { r, ds };
  } finally {
    await sim.close();
  }
};

test('install succeeds as a ServiceAccount with the printed roles', async () => {
  const { r, ds } = await installAs([]);
  assert.equal(r.code, 0, `${r.stderr}${r.stdout}`);
  assert.ok(ds, 'the DaemonSet was created');
  assert.match(r.stdout, /3\/3 nodes ready/);
});

test('migrate vxlan -> host-gw runs as a ServiceAccount with the printed role', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'vxlan' });
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  applyList(api, await printed('--for', 'migrate'));
  const ci = await addCiUser(api, mkdtempSync(join(tmpdir(), 'flannelctl-rbac-')));
  const env = { FLANNELCTL_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'flannelctl-backups-')) };
  const r = await runCli(
    ['migrate', ...asUser(cluster, ci.kubeconfig), '--to', 'host-gw', '--cleanup', '-o', 'json'],
    env,
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((JSON.parse(r.stdout) as { outcome: string }).outcome, 'migrated');
  assert.deepEqual(
    api.requests.records
      .filter((x) => x.user === ci.name && x.status >= 400)
      .map((x) => `${x.verb} ${x.path}`),
    [],
  );
});
