// Node access without SSH on real kernels: the API emulator runs kube-exec's execs and the DaemonSet
// pods' scripts in the lab node's network namespace with the node's run dir mounted as /run/flannel
// (as a hostNetwork pod with that hostPath would), and doctor's findings match those over the nodes'
// real OpenSSH, with only the capabilities the pod spec grants (setpriv, src/sim/container-caps.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { labRequirement } from '../helpers/requirements.ts';
import { runCli } from '../helpers/cli.ts';
import { createLab } from '../../src/lab/lab.ts';
import { labCliArgs } from '../../src/lab/cli-args.ts';
import { injectIpForwardOff, type Undo } from '../../src/lab/faults.ts';
import type { Lab } from '../../src/lab/types.ts';
import { startSimulatedFlannel, type SimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';
import type { Report } from '../../src/report/report.ts';
import { createClientNodeKube } from '../../src/kube/client-node.ts';
import { createKubeExec } from '../../src/nodes/kube-exec.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel;
let undo: Undo | undefined;
let overSsh: string[];

const findings = (report: Report): string[] =>
  report.findings.map((f) => `${f.severity} ${f.code} ${f.node ?? ''} ${f.peer ?? ''}`.trim()).sort();

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 3 });
  sim = await startSimulatedFlannel({ lab, backend: 'host-gw' });
  undo = await injectIpForwardOff(lab.node('node-2'));
  const ssh = await runCli(['doctor', ...labCliArgs(lab, sim.kubeconfig), '-o', 'json']);
  assert.equal(ssh.code, 1, ssh.stderr);
  overSsh = findings(JSON.parse(ssh.stdout) as Report);
  assert.ok(overSsh.includes('fail kernel/ip-forward-off node-2'), overSsh.join('\n'));
});
after(async () => {
  await undo?.();
  await sim?.close();
  await lab?.destroy();
});

/** What each mode must have done through the API, and left behind (nothing). */
const MODES = {
  'kube-exec': () => {
    const execs = sim.api.requests.records.filter((r) => r.resource === 'pods/exec' && r.status === 101);
    assert.equal(execs.length, 3, 'one exec per node');
    assert.deepEqual(sim.api.list('pods', undefined, 'app.kubernetes.io/managed-by=flannelctl'), []);
  },
  daemonset: () => {
    const created = sim.api.requests.records.filter((r) => r.verb === 'create' && r.status === 201);
    assert.deepEqual(created.map((r) => r.resource).sort(), ['configmaps', 'daemonsets']);
    for (const resource of ['daemonsets', 'configmaps', 'pods'])
      assert.deepEqual(sim.api.list(resource, undefined, 'app.kubernetes.io/managed-by=flannelctl'), []);
  },
} as const;

for (const [mode, apiEvidence] of Object.entries(MODES)) {
  test(
    `doctor --node-access ${mode} probes the lab nodes in their namespaces, as SSH does`,
    { skip },
    async () => {
      sim.api.requests.clear();
      const r = await runCli(['doctor', '--node-access', mode, '--kubeconfig', sim.kubeconfig, '-o', 'json']);
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.deepEqual(findings(report), overSsh);
      // subnet.env was read through the /run/flannel mount on every node.
      assert.deepEqual(
        report.findings.filter((f) => f.check === 'subnet-env').map((f) => `${f.severity} ${f.node}`),
        ['pass node-1', 'pass node-2', 'pass node-3'],
      );
      apiEvidence();
    },
  );
}

test('the node-access pod runs with NET_ADMIN and NET_RAW only, and no_new_privs', { skip }, async () => {
  const exec = createKubeExec({
    kube: createClientNodeKube({ kubeconfig: sim.kubeconfig }, {}),
    namespace: 'kube-flannel',
    image: 'ghcr.io/flannel-io/flannel:v0.28.9',
    runId: 'caps01',
    handleSignals: false,
  });
  try {
    const node = { name: 'node-1', address: lab.node('node-1').address };
    const status = await exec.run(node, 'grep -E "^(CapEff|CapBnd|NoNewPrivs):" /proc/self/status\n', {
      timeoutMs: 30_000,
    });
    // CAP_NET_ADMIN is bit 12, CAP_NET_RAW bit 13: 0x3000, nothing else.
    assert.deepEqual(
      status.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/).join(' ')),
      ['CapEff: 0000000000003000', 'CapBnd: 0000000000003000', 'NoNewPrivs: 1'],
    );
    // …which is what the probe's netfilter read needs (iptables-legacy: a raw socket and a getsockopt
    // that checks CAP_NET_ADMIN; iptables-nft: nfnetlink, which checks it for every message).
    const rules = await exec.run(node, 'iptables -S FORWARD\n', { timeoutMs: 30_000 });
    assert.equal(rules.exitCode, 0, rules.stderr);
    assert.match(rules.stdout, /^-P FORWARD /);
    // What NET_ADMIN does not cover stays refused: another process's environment (needs SYS_PTRACE).
    const denied = await exec.run(node, 'cat /proc/1/environ >/dev/null\n', { timeoutMs: 30_000 });
    assert.notEqual(denied.exitCode, 0);
    assert.match(denied.stderr + denied.stdout, /Permission denied/);
  } finally {
    await exec.close();
  }
  assert.deepEqual(sim.api.list('pods', undefined, 'app.kubernetes.io/managed-by=flannelctl'), []);
});
