// `flannelctl rbac --for <command>` end to end: the printed manifest, applied to the API emulator, lets a
// CI ServiceAccount run exactly that command, and every printed rule is needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../helpers/cli.ts';
import { addCiUser, applyList } from '../helpers/rbac.ts';
import { seedNodes, startSimCluster } from '../helpers/sim.ts';
import type { ApiServer } from '../../src/sim/apiserver/index.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import { resourceByName } from '../../src/sim/apiserver/resources.ts';
import { startVirtualCluster, type VirtualCluster } from '../../src/sim/virtual-cluster.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

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

const ROLE = resourceByName('clusterroles');
const setRules = (api: ApiServer, name: string, rules: Rule[]): void => {
  const role = api.get('clusterroles', undefined, name)!;
  api.registry.update(ROLE, undefined, name, { ...role, rules }, { manager: 'test' });
};
const describe = (r: Rule) => `${r.verbs.join(',')} ${r.resources.join(',')}`;

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
    docs.map((d) => d.kind),
    ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'],
  );
  const bad = await runCli(['rbac', '--for', 'everything']);
  assert.equal(bad.code, 2);
});

test('doctor runs read-only as a ServiceAccount bound to exactly the printed role, and each rule is needed', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 3, backend: 'host-gw', routeCheckIntervalMs: 600_000 });
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  applyList(api, await printed('--for', 'doctor'));
  const ci = await addCiUser(api, mkdtempSync(join(tmpdir(), 'flannelctl-rbac-')));
  const doctor = () => runCli(['doctor', ...asUser(cluster, ci.kubeconfig), '-o', 'json']);

  api.requests.clear();
  const ok = await doctor();
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

  const rules = api.get('clusterroles', undefined, 'flannelctl-doctor')!.rules as Rule[];
  assert.equal(rules.length, 6);
  for (const [i, rule] of rules.entries()) {
    setRules(
      api,
      'flannelctl-doctor',
      rules.filter((_, j) => j !== i),
    );
    const r = await doctor();
    assert.notEqual(r.code, 0, `doctor passed without "${describe(rule)}"`);
    assert.match(
      r.stderr + r.stdout,
      new RegExp(`forbidden.*User "${ci.name}" cannot ${rule.verbs[0]} resource "${rule.resources[0]}"`),
      `without "${describe(rule)}"`,
    );
  }
  setRules(api, 'flannelctl-doctor', rules);
  assert.equal((await doctor()).code, 0);
});

test('doctor with --namespace-scoped: a Role in kube-flannel and nodes cluster-wide are enough', async (t) => {
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'vxlan' });
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  const list = await printed('--for', 'doctor', '--namespace-scoped');
  assert.deepEqual(
    list.items.map((o) => `${o.kind} ${o.metadata?.namespace ?? ''}`.trim()),
    [
      'Namespace',
      'ServiceAccount ci',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role kube-flannel',
      'RoleBinding kube-flannel',
    ],
  );
  applyList(api, list);
  const ci = await addCiUser(api, mkdtempSync(join(tmpdir(), 'flannelctl-rbac-')));
  const r = await runCli(['doctor', ...asUser(cluster, ci.kubeconfig), '-o', 'json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
});

const installAs = async (printArgs: string[], drop?: number) => {
  const sim = await startSimCluster({ nodes: seedNodes(3) });
  try {
    const list = await printed('--for', 'install', ...printArgs);
    applyList(sim.api, list);
    const ci = await addCiUser(sim.api, mkdtempSync(join(tmpdir(), 'flannelctl-rbac-')));
    const rules = sim.api.get('clusterroles', undefined, 'flannelctl-install')!.rules as Rule[];
    if (drop !== undefined)
      setRules(
        sim.api,
        'flannelctl-install',
        rules.filter((_, j) => j !== drop),
      );
    const r = await runCli(['install', '--kubeconfig', ci.kubeconfig, '--backend', 'host-gw']);
    const ds = sim.api.get('daemonsets', 'kube-flannel', 'kube-flannel-ds');
    return { r, rules, ds, ci };
  } finally {
    await sim.close();
  }
};

test('install succeeds as a ServiceAccount with the printed role (cluster-wide and namespace-scoped)', async () => {
  for (const args of [[], ['--namespace-scoped']]) {
    const { r, ds } = await installAs(args);
    assert.equal(r.code, 0, `${args.join(' ')}\n${r.stderr}${r.stdout}`);
    assert.ok(ds, 'the DaemonSet was created');
    assert.match(r.stdout, /3\/3 nodes ready/);
  }
});

test('install: without any one rule of the printed ClusterRole it stops with a 403 naming the permission', async () => {
  const { rules } = await installAs([], 999);
  for (const [i, rule] of rules.entries()) {
    const { r, ci } = await installAs([], i);
    assert.notEqual(r.code, 0, `install passed without "${describe(rule)}"`);
    const out = r.stderr + r.stdout;
    const named = rule.verbs.some((v) =>
      rule.resources.some(
        (res) =>
          out.includes(`User "${ci.name}" cannot ${v} resource "${res}"`) ||
          out.includes(`may not ${v} ${res}`) ||
          (out.includes('attempting to grant RBAC permissions not currently held') &&
            out.includes(`Resources:["${res}"]`)),
      ),
    );
    assert.ok(named, `without "${describe(rule)}":\n${out}`);
  }
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
