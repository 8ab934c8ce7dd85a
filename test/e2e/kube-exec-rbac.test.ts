// `rbac --for doctor --node-access kube-exec` is exactly enough for doctor --node-access kube-exec as
// a CI ServiceAccount: its two extra rules (pods, pods/exec) are each needed.
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

test('rbac --node-access kube-exec grants pods and pods/exec, each needed by doctor --node-access kube-exec', async (t) => {
  const printed = await runCli([
    'rbac',
    '--for',
    'doctor',
    '--node-access',
    'kube-exec',
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
  const ci = await addCiUser(api, mkdtempSync(join(tmpdir(), 'flannelctl-kube-exec-rbac-')));
  const doctor = () =>
    runCli(['doctor', '--node-access', 'kube-exec', '--kubeconfig', ci.kubeconfig, '-o', 'json']);
  const ok = await doctor();
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);

  const rules = api.get('clusterroles', undefined, 'flannelctl-doctor')!.rules as Rule[];
  const extra = rules.filter((r) => r.resources.includes('pods/exec') || r.verbs.includes('create'));
  assert.deepEqual(
    extra.map((r) => `${r.verbs.join(',')} ${r.resources.join(',')}`),
    ['create,get,delete pods', 'create pods/exec'],
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
  const bad = await runCli(['rbac', '--for', 'migrate', '--node-access', 'kube-exec']);
  assert.equal(bad.code, 2);
});
