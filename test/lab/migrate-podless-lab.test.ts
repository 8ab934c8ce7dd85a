// migrate on a real topology where one node has no pods: the bridge CNI plugin creates cni0 only with a
// node's first pod (containernetworking/plugins plugins/main/bridge/bridge.go cmdAdd -> setupBridge), so
// node-3 has none. Pods on node-1 and node-2 are created through the API emulator and run by the lab pod
// runner through the real bridge plugin; migrate verifies by pinging their API pod IPs. vxlan -> host-gw
// and back must both exit 0 with node-3 reported `node-level`; a pod subnet blackholed on the host-gw
// path (node-level checks cannot see it) must still fail verification and roll back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { labRequirement } from '../helpers/requirements.ts';
import { runCli } from '../helpers/cli.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab } from '../../src/lab/types.ts';
import { ANNOTATIONS, CONFIGMAP_NAME } from '../../src/flannel/names.ts';
import { startSimulatedFlannel, type SimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';
import { startPodRunner, type PodRunner } from '../../src/sim/pod-runner/index.ts';
import { startWorkloadPods } from '../../src/sim/workload-pods.ts';
import type { MigrationResult } from '../../src/migrate/result.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel;
let runner: PodRunner;
let args: string[];
const podIPs = new Map<string, string>();
const env = { FLANNELCTL_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'flannelctl-lab-backups-')) };

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 3 });
  sim = await startSimulatedFlannel({ lab, backend: 'vxlan', readyDelayMs: 600, routeCheckIntervalMs: 300 });
  runner = startPodRunner({ api: sim.api, lab });
  // A pause pod (no command: the namespace alone) on node-1 and node-2; node-3 stays empty.
  const pods = await startWorkloadPods(
    sim.api,
    new Map([
      ['node-1', 1],
      ['node-2', 1],
    ]),
  );
  for (const pod of pods) podIPs.set(pod.node, pod.podIP);
  const inventory = join(lab.dir, 'podless-inventory.yaml');
  writeFileSync(
    inventory,
    stringify({ nodes: lab.nodes.map((n) => ({ name: n.name, address: n.address, ssh: { user: 'root' } })) }),
  );
  const sshConfig = join(lab.dir, 'podless-ssh-config');
  writeFileSync(sshConfig, '');
  args = [
    '--kubeconfig',
    sim.kubeconfig,
    '--inventory',
    inventory,
    '--ssh-key',
    lab.ssh!.identityFile,
    '--ssh-known-hosts',
    lab.ssh!.knownHostsFile,
    '--ssh-config',
    sshConfig,
  ];
});
after(async () => {
  await runner?.close();
  await sim?.close();
  await lab?.destroy();
});

const backendOf = (node: string) =>
  sim.api.get('nodes', undefined, node)?.metadata?.annotations?.[ANNOTATIONS.backendType];

const migrate = async (...flags: string[]) => {
  const r = await runCli(['migrate', ...args, ...flags, '-o', 'json'], env);
  const result = r.stdout ? (JSON.parse(r.stdout) as MigrationResult) : undefined;
  return { r, result };
};

const verificationOf = (result: MigrationResult | undefined) =>
  Object.fromEntries((result?.nodes ?? []).map((n) => [n.node, n.verification]));

test('node-3 really has no cni0 (no pod ever ran there), node-1 and node-2 do', { skip }, async () => {
  assert.notEqual((await lab.tryExec(lab.node('node-3').netns, ['ip', 'link', 'show', 'cni0'])).code, 0);
  for (const node of ['node-1', 'node-2'])
    assert.equal((await lab.tryExec(lab.node(node).netns, ['ip', 'link', 'show', 'cni0'])).code, 0);
});

test('a cluster with a pod-less node migrates vxlan -> host-gw and back, exit 0', { skip }, async () => {
  const there = await migrate('--to', 'host-gw', '--watch-connectivity', '--cleanup');
  assert.equal(there.r.code, 0, there.r.stderr + there.r.stdout);
  assert.equal(there.result?.outcome, 'migrated');
  assert.deepEqual(verificationOf(there.result), {
    'node-1': 'verified',
    'node-2': 'verified',
    'node-3': 'node-level',
  });
  const node3 = there.result!.nodes.find((n) => n.node === 'node-3')!;
  assert.match(node3.message ?? '', /no pods/);
  // What was pinged are the pods' own addresses from the API, through cni0 on their nodes.
  const targets = new Set(there.result?.connectivity?.pairs.map((p) => p.target));
  assert.deepEqual([...targets].sort(), [...podIPs.values()].sort());
  assert.ok(there.result!.connectivity!.sent > 0);
  for (const node of lab.nodes) assert.equal(backendOf(node.name), 'host-gw');

  const back = await migrate('--to', 'vxlan');
  assert.equal(back.r.code, 0, back.r.stderr + back.r.stdout);
  assert.equal(back.result?.outcome, 'migrated');
  assert.equal(verificationOf(back.result)['node-3'], 'node-level');
  for (const node of lab.nodes) assert.equal(backendOf(node.name), 'vxlan');
});

test(
  'pods unreachable over host-gw (their subnet blackholed on eth0) fail verification and roll back',
  { skip },
  async () => {
    // Traffic for node-2's pods that arrives on eth0 (host-gw) is blackholed by a policy rule; through
    // flannel.1 (vxlan) it still flows, and node-2's routes stay exactly what flanneld programs. Only a
    // ping to a pod IP can tell, like a cloud that drops pod IPs on the wire.
    const node2 = lab.node('node-2');
    const rule = ['rule', 'add', 'iif', 'eth0', 'to', node2.podCidr, 'blackhole', 'pref', '90'];
    await lab.exec(node2.netns, ['ip', ...rule]);
    try {
      const before = { ...(sim.api.get('configmaps', sim.namespace, CONFIGMAP_NAME)!.data as object) };
      const run = await migrate('--to', 'host-gw', '--timeout', '60s');
      assert.equal(run.r.code, 1, run.r.stderr + run.r.stdout);
      assert.equal(run.result?.outcome, 'rolled-back', run.r.stderr);
      assert.match(run.r.stderr, new RegExp(`${podIPs.get('node-2')!.replace(/\./g, '\\.')}`));
      assert.deepEqual(sim.api.get('configmaps', sim.namespace, CONFIGMAP_NAME)!.data, before);
      for (const node of lab.nodes) assert.equal(backendOf(node.name), 'vxlan');
      assert.equal(verificationOf(run.result)['node-3'], 'node-level');
    } finally {
      await lab.exec(node2.netns, ['ip', ...rule.map((w) => (w === 'add' ? 'del' : w))]);
    }
  },
);
