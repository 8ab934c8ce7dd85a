import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { kubectlRequirement } from '../helpers/requirements.ts';
import { runCli } from '../helpers/cli.ts';
import { seedNodes, startSimCluster } from '../helpers/sim.ts';

// Asynchronous on purpose: the API emulator runs in this process and must keep serving.
const kubectl = async (kubeconfig: string, ...args: string[]): Promise<string> =>
  (
    await promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    })
  ).stdout;

test(
  'kubectl sees what flannelctl installed, and rolls it out like any DaemonSet',
  { skip: kubectlRequirement() },
  async () => {
    const sim = await startSimCluster({ nodes: seedNodes(3) });
    try {
      const r = await runCli([
        'install',
        '--kubeconfig',
        sim.kubeconfig,
        '--backend',
        'host-gw',
        '--timeout',
        '30s',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const ds = JSON.parse(
        await kubectl(
          sim.kubeconfig,
          '-n',
          'kube-flannel',
          'get',
          'ds',
          'kube-flannel-ds',
          '-o',
          'json',
          '--show-managed-fields',
        ),
      ) as {
        status: { numberReady: number };
        metadata: { managedFields: { manager: string; operation: string }[] };
      };
      assert.equal(ds.status.numberReady, 3);
      assert.ok(ds.metadata.managedFields.some((f) => f.manager === 'flannelctl' && f.operation === 'Apply'));
      const cm = await kubectl(
        sim.kubeconfig,
        '-n',
        'kube-flannel',
        'get',
        'cm',
        'kube-flannel-cfg',
        '-o',
        'yaml',
      );
      assert.match(cm, /"Type": "host-gw"/);
      await kubectl(sim.kubeconfig, '-n', 'kube-flannel', 'rollout', 'restart', 'ds/kube-flannel-ds');
      const status = await kubectl(
        sim.kubeconfig,
        '-n',
        'kube-flannel',
        'rollout',
        'status',
        'ds/kube-flannel-ds',
        '--timeout=60s',
      );
      assert.match(status, /successfully rolled out/);
    } finally {
      await sim.close();
    }
  },
);

test(
  'a manifest applied with kubectl --server-side is recognised by install as already in place',
  { skip: kubectlRequirement() },
  async () => {
    const sim = await startSimCluster({ nodes: seedNodes(2) });
    try {
      const rendered = await runCli(['install', '--dry-run', '--backend', 'vxlan', '-o', 'yaml']);
      const file = join(dirname(sim.kubeconfig), 'flannel.yaml');
      writeFileSync(file, rendered.stdout);
      const applied = await kubectl(sim.kubeconfig, 'apply', '--server-side', '-f', file);
      assert.match(applied, /daemonset.apps\/kube-flannel-ds serverside-applied/);
      sim.api.requests.clear();
      const r = await runCli(['install', '--kubeconfig', sim.kubeconfig, '--timeout', '30s']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /No changes: flannel v0\.28\.9 \(vxlan/);
      assert.deepEqual(sim.api.requests.writes(), []);
    } finally {
      await sim.close();
    }
  },
);
