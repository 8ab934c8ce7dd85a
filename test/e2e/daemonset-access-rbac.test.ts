// `rbac --for doctor --node-access daemonset` is exactly enough for doctor --node-access daemonset as a
// CI ServiceAccount: its two extra rules (configmaps, daemonsets) are each needed; pods list and
// pods/log get come with doctor's own reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { addCiUser, applyList } from '../helpers/rbac.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import { resourceByName } from '../../src/sim/apiserver/resources.ts';
import { startVirtualCluster } from '../../src/sim/virtual-cluster.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

test('rbac --node-access daemonset grants configmaps and daemonsets, each needed by doctor --node-access daemonset', async (t) => {
  const printed = await runCli([
    'rbac',
    '--for',
    'doctor',
    '--node-access',
    'daemonset',
    '--sa-namespace',
    'ci',
    '-o',
    'json',
  ]);
  assert.equal(printed.code, 0, printed.stderr);
  const list = JSON.parse(printed.stdout) as { items: KubeObject[] };
  const cluster = await startVirtualCluster({ nodes: 2, backend: 'host-gw' });
  t.after(() => cluster.close());
  const api = cluster.flannel.api;
  applyList(api, list as never);
  const ci = await addCiUser(api, mkdtempSync(join(tmpdir(), 'flannelctl-daemonset-rbac-')));
  const doctor = () =>
    runCli(['doctor', '--node-access', 'daemonset', '--kubeconfig', ci.kubeconfig, '-o', 'json']);
  const ok = await doctor();
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);

  const rules = api.get('clusterroles', undefined, 'flannelctl-doctor')!.rules as Rule[];
  const extra = rules.filter((r) => r.verbs.includes('create'));
  assert.deepEqual(
    extra.map((r) => `${r.verbs.join(',')} ${r.resources.join(',')}`),
    ['create,delete configmaps', 'create,delete daemonsets'],
  );
  const ROLE = resourceByName('clusterroles');
  for (const rule of extra) {
    const role = api.get('clusterroles', undefined, 'flannelctl-doctor')!;
    api.registry.update(
      ROLE,
      undefined,
      'flannelctl-doctor',
      { ...role, rules: rules.filter((r) => r !== rule) },
      { manager: 'test' },
    );
    const r = await doctor();
    assert.equal(r.code, 3, `doctor ran without "${rule.resources.join(',')}"`);
    assert.match(r.stdout, /"kind": "auth"/);
  }
  const bad = await runCli(['rbac', '--for', 'migrate', '--node-access', 'daemonset']);
  assert.equal(bad.code, 2);
});
