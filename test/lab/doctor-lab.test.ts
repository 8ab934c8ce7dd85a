// The lab proof of doctor: real kernels in network namespaces, programmed by the flannel agent
// emulator (host-gw), reached over each node's real OpenSSH like an operator would. A healthy cluster
// has no finding above pass; each injected fault is reported exactly, on exactly its node and pair,
// and pod traffic shows the fault is real; undoing it brings the clean report back. mtu-probe reads
// the real kernel's answer for a node with a smaller MTU.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labRequirement } from '../helpers/requirements.ts';
import { runCli } from '../helpers/cli.ts';
import { createLab } from '../../src/lab/lab.ts';
import {
  injectDeletedRoute,
  injectIpForwardOff,
  injectLowerMtu,
  injectStaleFlannelVxlan,
  injectStrictRpFilterAsymmetric,
  type Undo,
} from '../../src/lab/faults.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import { labNodes, startSimulatedFlannel, type SimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';
import type { Report } from '../../src/report/report.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel | undefined;
let n1: LabNode, n2: LabNode, n3: LabNode, n4: LabNode, remote: LabNode;
let sshConfig: string;

/** host-gw on the given nodes; routeCheck is slowed so a deleted route stays deleted. */
const startFlannel = async (nodes: readonly LabNode[]): Promise<void> => {
  await sim?.close();
  const names = new Set(nodes.map((n) => n.name));
  sim = await startSimulatedFlannel({
    nodes: labNodes(lab).filter((n) => names.has(n.name)),
    backend: 'host-gw',
    routeCheckIntervalMs: 600_000,
  });
};

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 4, remoteNodes: 1 });
  [n1, n2, n3, n4, remote] = lab.nodes as [LabNode, LabNode, LabNode, LabNode, LabNode];
  sshConfig = join(lab.dir, 'empty_ssh_config');
  writeFileSync(sshConfig, '');
  // The remote node behind the router joins the cluster only for the last test.
  await startFlannel([n1, n2, n3, n4]);
  // kubelet can start pods once flannel wrote subnet.env: one per node that runs flannel.
  for (const node of [n1, n2, n3, n4]) await lab.addPod(node.name);
});
after(async () => {
  await sim?.close();
  await lab?.destroy();
});

const cliArgs = (): string[] => [
  '--kubeconfig',
  sim!.kubeconfig,
  '--ssh-key',
  lab.ssh!.identityFile,
  '--ssh-known-hosts',
  lab.ssh!.knownHostsFile,
  '--ssh-user',
  'root',
  '--ssh-config',
  sshConfig,
];

/** "code node -> peer" of every finding worse than pass, sorted. */
const notPassing = (report: Report): string[] =>
  report.findings
    .filter((f) => f.severity !== 'pass' && f.severity !== 'info')
    .map((f) => `${f.severity} ${f.code} ${f.node ?? ''}${f.peer ? ` -> ${f.peer}` : ''}`.trim())
    .sort();

const doctor = async (...extra: string[]): Promise<{ code: number; report: Report; stderr: string }> => {
  const r = await runCli(['doctor', ...cliArgs(), '-o', 'json', ...extra]);
  assert.ok(r.stdout.startsWith('{'), r.stderr + r.stdout);
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
};

/** One pod-to-pod ping from `from`'s pod to `to`'s pod; `size` sets -M do -s. */
const podPing = async (from: LabNode, to: LabNode, size?: number): Promise<boolean> => {
  const df = size === undefined ? [] : ['-M', 'do', '-s', String(size - 28)];
  const argv = ['ping', '-c', '1', '-W', '1', ...df, to.pods[0]!.address];
  return (await lab.tryExec(from.pods[0]!.netns, argv)).code === 0;
};

const assertHealthy = async (): Promise<void> => {
  const { code, report, stderr } = await doctor();
  assert.deepEqual(notPassing(report), [], stderr);
  assert.equal(code, 0);
  assert.equal(report.nodes.filter((n) => n.reachable).length, 4);
  assert.equal(report.expectedBackend.value, 'host-gw');
};

test('a healthy host-gw lab: doctor over real OpenSSH has no finding above pass', { skip }, async () => {
  await assertHealthy();
  for (const [from, to] of [
    [n1, n2],
    [n2, n1],
    [n3, n4],
    [n4, n3],
  ] as const)
    assert.ok(await podPing(from, to, 1500), `${from.name} -> ${to.name} carries 1500-byte packets`);
});

test(
  'four faults on four nodes: doctor names exactly those, and undoing them heals the report',
  { skip },
  async () => {
    const undo: Undo[] = [
      // node-1: strict rp_filter while its route to node-2's pods leaves through a second NIC.
      await injectStrictRpFilterAsymmetric(lab, n1, {
        name: n2.name,
        address: n2.address,
        podCidr: n2.podCidr,
      }),
      // node-3: eth0 at 1400 where the others use 1500 (flanneld still says FLANNEL_MTU=1500).
      await injectLowerMtu(n3, 1400),
      // node-2: flannel's route to node-3's pods deleted behind its back.
      await injectDeletedRoute(n2, n3.podCidr),
      // node-4: IP forwarding off.
      await injectIpForwardOff(n4),
    ];
    try {
      // The faults are real: pod traffic breaks exactly where they are.
      assert.equal(await podPing(n2, n1), false, 'node-1 drops node-2 pods (rp_filter)');
      assert.equal(await podPing(n1, n3, 1500), false, 'node-3 drops 1500-byte packets (MTU)');
      assert.ok(await podPing(n1, n3), 'small packets still reach node-3');
      assert.equal(await podPing(n2, n3), false, 'node-2 has no route to node-3 pods');
      assert.equal(await podPing(n3, n4), false, 'node-4 does not forward to its pods');

      const { code, report } = await doctor();
      assert.equal(code, 1);
      assert.deepEqual(notPassing(report), [
        'fail kernel/ip-forward-off node-4',
        'fail mtu/flannel-mtu-mismatch node-3',
        'fail mtu/uplink-mismatch node-3',
        'fail routes/missing node-2 -> node-3',
        // The asymmetric route itself: node-2's pods are reached through eth1, not flannel's eth0.
        'fail routes/wrong-device node-1 -> node-2',
        'fail rp-filter/strict-asymmetric node-1',
        'fail subnet-env/mtu-mismatch node-3',
      ]);
      const byCode = (code: string) => report.findings.find((f) => f.code === code)!;
      assert.match(
        byCode('mtu/uplink-mismatch').message,
        /eth0 on node-3 has MTU 1400, 3 other nodes use 1500/,
      );
      assert.match(
        byCode('routes/missing').message,
        new RegExp(`node-2 has no route to node-3's podCIDR ${n3.podCidr.replace(/\./g, '\\.')}`),
      );
      assert.ok(byCode('rp-filter/strict-asymmetric').evidence.some((e) => /eth1/.test(e)));
    } finally {
      for (const u of undo.reverse()) await u();
    }
    await assertHealthy();
    assert.ok(await podPing(n2, n1));
    assert.ok(await podPing(n1, n3, 1500));
    assert.ok(await podPing(n2, n3));
    assert.ok(await podPing(n3, n4));
  },
);

test('a flannel.1 left behind under host-gw is a warning on that node only', { skip }, async () => {
  const undo = await injectStaleFlannelVxlan(n2);
  try {
    const { code, report } = await doctor();
    assert.equal(code, 0, 'a warning does not fail by default');
    assert.deepEqual(notPassing(report), ['warn backend-consistency/stale-vxlan-device node-2']);
    assert.equal((await doctor('--fail-on', 'warn')).code, 1);
  } finally {
    await undo();
  }
  await assertHealthy();
});

test(
  'mtu-probe measures what the real kernel lets through to and from a node with MTU 1400',
  { skip },
  async () => {
    const undo = await injectLowerMtu(n3, 1400);
    try {
      const json = await runCli(['mtu-probe', ...cliArgs(), '-o', 'json']);
      assert.equal(json.code, 1, json.stderr);
      const report = JSON.parse(json.stdout) as Report;
      assert.equal(report.kind, 'MtuProbeReport');
      const others = [n1, n2, n4].map((n) => n.name);
      assert.deepEqual(
        notPassing(report),
        [
          'fail mtu/flannel-mtu-mismatch node-3',
          'fail mtu/uplink-mismatch node-3',
          // Into node-3 (node and pod path): its veth takes up to 1404 bytes, bigger ones vanish silently.
          ...others.flatMap((n) => Array(2).fill(`fail mtu/path-mtu-too-small ${n} -> node-3`)),
          // Out of node-3 to pods: FLANNEL_MTU still 1500, the kernel refuses more than 1400.
          ...others.map((n) => `fail mtu/path-mtu-too-small node-3 -> ${n}`),
          // node-3's replies above 1400 bytes were fragmented there and reassembled by the others.
          ...[...others, 'node-3'].map((n) => `warn mtu/fragmentation ${n}`),
        ].sort(),
      );
      const tooSmall = report.findings.filter((f) => f.code === 'mtu/path-mtu-too-small');
      for (const f of tooSmall.filter((x) => x.peer === 'node-3'))
        assert.match(f.message, /carries at most 1404 bytes, 1500 expected/);
      for (const f of tooSmall.filter((x) => x.node === 'node-3')) {
        assert.match(f.message, /to a pod on node-\d .* carries at most 1400 bytes, 1500 expected/);
        assert.ok(
          f.evidence.some((e) => /message too long, mtu=1400/.test(e)),
          f.evidence.join('\n'),
        );
      }

      const text = await runCli(['mtu-probe', ...cliArgs(), '--no-color', '--nodes', 'node-1,node-3']);
      assert.equal(text.code, 1);
      assert.match(text.stdout, /^node-1 +node-3 +1404\/1500 ✗ +1404\/1500 ✗$/m);
      assert.match(text.stdout, /^node-3 +node-1 +1400\/1400 +1400\/1500 ✗$/m);
    } finally {
      await undo();
    }
  },
);

test('a node behind a router: doctor names every pair with it, and nothing else', { skip }, async () => {
  await startFlannel(lab.nodes);
  const { code, report } = await doctor();
  assert.equal(code, 1);
  const main = [n1, n2, n3, n4].map((n) => n.name);
  const r = remote.name;
  assert.deepEqual(
    notPassing(report),
    [
      ...main.flatMap((n) => [
        `fail l2-adjacency/routed ${n} -> ${r}`,
        `fail l2-adjacency/routed ${r} -> ${n}`,
        `fail routes/missing ${n} -> ${r}`,
        `fail routes/missing ${r} -> ${n}`,
        `fail flannel-logs/route-network-unreachable ${n}`,
      ]),
      `fail flannel-logs/route-network-unreachable ${r}`,
    ].sort(),
  );
  assert.equal(
    report.nodes.filter((n) => n.reachable).length,
    5,
    'node-5 is reached over SSH through the router',
  );
});
