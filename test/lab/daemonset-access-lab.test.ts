// --node-access daemonset on real kernels: the emulator runs each DaemonSet pod's script in its lab
// node's network namespace with the node's run dir mounted as /run/flannel (as a hostNetwork pod with
// that hostPath would), and doctor's findings match those over the nodes' real OpenSSH.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labRequirement } from '../helpers/requirements.ts';
import { runCli } from '../helpers/cli.ts';
import { createLab } from '../../src/lab/lab.ts';
import { injectIpForwardOff, type Undo } from '../../src/lab/faults.ts';
import type { Lab } from '../../src/lab/types.ts';
import { startSimulatedFlannel, type SimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';
import type { Report } from '../../src/report/report.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel;
let undo: Undo | undefined;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 3 });
  sim = await startSimulatedFlannel({ lab, backend: 'host-gw' });
});
after(async () => {
  await undo?.();
  await sim?.close();
  await lab?.destroy();
});

const findings = (report: Report): string[] =>
  report.findings.map((f) => `${f.severity} ${f.code} ${f.node ?? ''} ${f.peer ?? ''}`.trim()).sort();

test(
  'doctor --node-access daemonset probes the lab nodes in their namespaces, as SSH does',
  { skip },
  async () => {
    undo = await injectIpForwardOff(lab.node('node-2'));
    const sshConfig = join(lab.dir, 'empty_ssh_config');
    writeFileSync(sshConfig, '');
    const ssh = await runCli([
      'doctor',
      '--kubeconfig',
      sim.kubeconfig,
      '--ssh-key',
      lab.ssh!.identityFile,
      '--ssh-known-hosts',
      lab.ssh!.knownHostsFile,
      '--ssh-user',
      'root',
      '--ssh-config',
      sshConfig,
      '-o',
      'json',
    ]);
    const ds = await runCli([
      'doctor',
      '--node-access',
      'daemonset',
      '--kubeconfig',
      sim.kubeconfig,
      '-o',
      'json',
    ]);
    assert.equal(ds.code, 1, ds.stderr);
    assert.equal(ssh.code, 1, ssh.stderr);
    const report = JSON.parse(ds.stdout) as Report;
    assert.deepEqual(findings(report), findings(JSON.parse(ssh.stdout) as Report));
    assert.ok(findings(report).includes('fail kernel/ip-forward-off node-2'), findings(report).join('\n'));
    // subnet.env was read through the /run/flannel mount on every node.
    assert.deepEqual(
      report.findings.filter((f) => f.check === 'subnet-env').map((f) => `${f.severity} ${f.node}`),
      ['pass node-1', 'pass node-2', 'pass node-3'],
    );
    const created = sim.api.requests.records.filter((r) => r.verb === 'create' && r.status === 201);
    assert.deepEqual(created.map((r) => r.resource).sort(), ['configmaps', 'daemonsets']);
    for (const resource of ['daemonsets', 'configmaps', 'pods'])
      assert.deepEqual(sim.api.list(resource, undefined, 'app.kubernetes.io/managed-by=flannelctl'), []);
  },
);
