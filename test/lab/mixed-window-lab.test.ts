// The mixed-backend window on real kernels: node-1 has converted to host-gw (its route to node-2's
// podCIDR replaced by `via <node-2> dev eth0`, as flannel's routeAdd does), node-2 still routes back via
// flannel.1. node-2 receives node-1's pod packets on eth0 while its reverse route leaves via flannel.1:
// strict rp_filter (1) drops them, loose (2) does not. Then migrate's gate, reading the same kernels
// over SSH, refuses exactly this node, and the remedy it names (check-rpfilter --fix) cures the drop.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { labRequirement } from '../helpers/requirements.ts';
import { runCli } from '../helpers/cli.ts';
import { createLab } from '../../src/lab/lab.ts';
import {
  defaultSubnetEnv,
  ensureVxlanDevice,
  programHostGw,
  programVxlan,
  writeSubnetEnv,
} from '../../src/lab/backends.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import { startSimulatedFlannel, type SimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel | undefined;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 2 });
  // Both nodes start on vxlan: flannel's subnet.env first, then kubelet starts one pod per node.
  for (const node of lab.nodes) writeSubnetEnv(node, defaultSubnetEnv(node, 'vxlan'));
  await lab.startPods(1);
});
after(async () => {
  await sim?.close();
  await lab?.destroy();
});

/** rp_filter on `all` and every interface pod traffic crosses on the node (the kernel uses the max). */
const setRpFilter = async (node: LabNode, value: number) => {
  for (const key of [
    'net.ipv4.conf.all.rp_filter',
    'net.ipv4.conf.eth0.rp_filter',
    'net/ipv4/conf/flannel.1/rp_filter',
  ])
    await lab.exec(node.netns, ['sysctl', '-qw', `${key}=${value}`]);
};

const podPing = async (from: LabNode, to: LabNode): Promise<boolean> =>
  (await lab.tryExec(from.pods[0]!.netns, ['ping', '-n', '-c', '2', '-W', '1', to.pods[0]!.address])).code ===
  0;

/** Both nodes on vxlan, then node-1 converted: direct to node-2, node-2 still back via flannel.1. */
const mixedWindow = async (node1: LabNode, node2: LabNode) => {
  const mac1 = await ensureVxlanDevice(node1);
  const mac2 = await ensureVxlanDevice(node2);
  await programVxlan(node1, [
    { name: node2.name, address: node2.address, podCidr: node2.podCidr, vtepMac: mac2 },
  ]);
  await programVxlan(node2, [
    { name: node1.name, address: node1.address, podCidr: node1.podCidr, vtepMac: mac1 },
  ]);
  assert.equal(await podPing(node1, node2), true, 'both on vxlan: pods reach each other');
  const [outcome] = await programHostGw(node1, [
    { name: node2.name, address: node2.address, podCidr: node2.podCidr },
  ]);
  assert.equal(outcome?.ok, true, outcome?.error);
};

test(
  'strict rp_filter drops pod traffic in the mixed-backend window; loose does not; the gate flags it',
  { skip },
  async () => {
    const node1 = lab.node('node-1');
    const node2 = lab.node('node-2');
    await ensureVxlanDevice(node1);
    await ensureVxlanDevice(node2);

    // Symmetric (both vxlan): strict mode is harmless.
    await setRpFilter(node2, 1);
    await mixedWindow(node1, node2);
    const route1 = (await lab.exec(node1.netns, ['ip', 'route', 'show', node2.podCidr])).stdout;
    const route2 = (await lab.exec(node2.netns, ['ip', 'route', 'show', node1.podCidr])).stdout;
    assert.match(route1, new RegExp(`via ${node2.address.replace(/\./g, '\\.')} dev eth0`));
    assert.match(route2, /dev flannel\.1 onlink/);
    assert.equal(
      await podPing(node1, node2),
      false,
      'strict rp_filter on node-2 drops node-1’s direct packets',
    );
    await setRpFilter(node2, 2);
    assert.equal(await podPing(node1, node2), true, 'loose rp_filter lets them through');

    // The gate, reading these kernels over SSH, flags node-2 (strict) and not node-1.
    await setRpFilter(node2, 1);
    // Back to the state before the migration: both on vxlan, which the agents program anyway.
    await programVxlan(node1, [
      {
        name: node2.name,
        address: node2.address,
        podCidr: node2.podCidr,
        vtepMac: await ensureVxlanDevice(node2),
      },
    ]);
    sim = await startSimulatedFlannel({
      lab,
      backend: 'vxlan',
      readyDelayMs: 100,
      routeCheckIntervalMs: 300,
    });
    const inventory = join(lab.dir, 'mixed-window-inventory.yaml');
    writeFileSync(
      inventory,
      stringify({
        nodes: lab.nodes.map((n) => ({ name: n.name, address: n.address, ssh: { user: 'root' } })),
      }),
    );
    const sshConfig = join(lab.dir, 'mixed-window-ssh-config');
    writeFileSync(sshConfig, '');
    const args = [
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
    const env = { FLANNELCTL_BACKUP_DIR: mkdtempSync(join(tmpdir(), 'flannelctl-lab-backups-')) };
    const gate = await runCli(['migrate', ...args, '--to', 'host-gw', '--dry-run'], env);
    assert.equal(gate.code, 1, gate.stdout + gate.stderr);
    assert.match(gate.stdout, /Preflight: FAILED/);
    assert.match(
      gate.stdout,
      /✗ mixed-window\/strict-rp-filter node-2: Strict rp_filter on eth0, flannel\.1 of node-2/,
    );
    assert.doesNotMatch(gate.stdout, /strict-rp-filter node-1/);
    assert.match(gate.stdout, /fix: flannelctl check-rpfilter --fix --nodes node-2/);

    // The named remedy, run for real over SSH, clears the gate and the drop.
    const fix = await runCli(['check-rpfilter', ...args, '--fix', '--yes', '--nodes', 'node-2']);
    assert.equal(fix.code, 0, fix.stdout + fix.stderr);
    const again = await runCli(['migrate', ...args, '--to', 'host-gw', '--dry-run'], env);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /Preflight: passed/);
    await sim.close();
    sim = undefined;
    await mixedWindow(node1, node2);
    assert.equal(await podPing(node1, node2), true, 'after check-rpfilter --fix the window no longer drops');
  },
);
