// "Done when": a real node (network namespace + OpenSSH) and a virtual node configured the same way
// give equivalent NodeFacts through the same code path (buildProbeScript -> createSshExec().run ->
// parseProbeOutput). Only what legitimately differs is dropped: MACs (and the fe80:: addresses derived
// from them), ifindexes, the hostname and the kernel/iproute2/host sysctls that belong to the machine.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { NodeFacts } from '../../src/facts/node-facts.ts';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { newProbeNonce } from '../../src/facts/probe-input.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { ensureVxlanDevice, programVxlanAll } from '../../src/lab/backends.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import type { NodeExec, NodeTarget } from '../../src/nodes/exec.ts';
import { createSshExec } from '../../src/nodes/ssh.ts';
import { startVirtualFleet, type VirtualFleet } from '../../src/sim/virtual-node/fleet.ts';
import { runScript } from '../../src/sim/virtual-node/shell.ts';
import { labRequirement } from '../helpers/requirements.ts';

const skip = labRequirement();
let lab: Lab;
let fleet: VirtualFleet;
const execs: NodeExec[] = [];

// The same configuration, as the shell lines an operator (or flanneld) would run on both nodes.
const RP_FILTER: Readonly<Record<string, number>> = {
  all: 2,
  default: 0,
  lo: 0,
  eth0: 1,
  cni0: 0,
  'flannel.1': 1,
};
// A routed destination through a gateway on the node's own subnet (the lab picks a free /24 per run).
let extraGateway = '';
const extraRoute = (): string => `ip route add 172.31.0.0/16 via ${extraGateway} dev eth0`;

const probe = async (exec: NodeExec, target: NodeTarget, peers: string[]): Promise<NodeFacts> => {
  const nonce = newProbeNonce();
  const r = await exec.run(target, buildProbeScript({ nonce, peers }), { timeoutMs: 20_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  return parseProbeOutput('node-1', r.stdout, nonce, { address: target.address });
};

let real: LabNode;
let podVeth: string;

before(async () => {
  if (skip) return;
  // No default route: 203.0.113.9 must stay unroutable on both twins (the virtual one has gateway: null).
  lab = await createLab({ nodes: 3, podsPerNode: 1, defaultRoute: false });
  real = lab.node('node-1');
  extraGateway = real.address.replace(/\.\d+$/, '.253');
  await programVxlanAll(lab.nodes);
  await lab.startPods();
  const macs = new Map<string, string>();
  for (const n of lab.nodes) macs.set(n.name, await ensureVxlanDevice(n));
  const links = JSON.parse((await lab.exec(real.netns, ['ip', '-j', 'link', 'show'])).stdout) as {
    ifname: string;
    master?: string;
  }[];
  podVeth = links.find((l) => l.master === 'cni0')!.ifname;
  await lab.exec(real.netns, extraRoute().split(' '));
  // A fresh bridge reports operstate UNKNOWN until linkwatch runs; compare the settled state.
  for (let i = 0; i < 50; i++) {
    const [cni0] = JSON.parse((await lab.exec(real.netns, ['ip', '-j', 'link', 'show', 'cni0'])).stdout) as {
      operstate: string;
    }[];
    if (cni0?.operstate === 'UP') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  for (const [dev, value] of Object.entries({ ...RP_FILTER, [podVeth]: 0 })) {
    await lab.exec(real.netns, [
      'sysctl',
      '-qw',
      `net.ipv4.conf.${dev.replace('.', '/')}.rp_filter=${value}`,
    ]);
  }

  fleet = await startVirtualFleet({
    nodes: [
      {
        name: 'node-1',
        address: real.address,
        podCIDR: real.podCidr,
        gateway: null,
        // cni0 without ports: the lab pod's veth is added below under its real name.
        pods: 0,
        cni0: true,
        backend: 'vxlan',
      },
    ],
  });
  const v = fleet.node('node-1');
  v.addLink({ name: podVeth, kind: 'veth', master: 'cni0', peerIndex: 2, peerNetnsId: 1 });
  v.link(podVeth)!.mtu = 1450; // the bridge plugin gives the veth the delegate's MTU (FLANNEL_MTU)
  // flanneld's VXLAN programming, sent as the same commands backends.ts runs in the lab.
  const lines = [extraRoute()];
  for (const peer of lab.nodes.filter((n) => n.name !== real.name)) {
    const vtep = peer.podCidr.split('/')[0]!;
    const mac = macs.get(peer.name)!;
    lines.push(
      `ip route replace ${peer.podCidr} via ${vtep} dev flannel.1 onlink`,
      `ip neigh replace ${vtep} lladdr ${mac} dev flannel.1 nud permanent`,
      `bridge fdb append ${mac} dev flannel.1 dst ${peer.address}`,
    );
  }
  for (const [dev, value] of Object.entries({ ...RP_FILTER, [podVeth]: 0 })) {
    lines.push(`sysctl -w net.ipv4.conf.${dev.replace('.', '/')}.rp_filter=${value}`);
  }
  const r = runScript(v, `${lines.join('\n')}\n`);
  assert.equal(r.code, 0, r.stderr);
});

after(async () => {
  await Promise.all(execs.map((e) => e.close()));
  await fleet?.close();
  await lab?.destroy();
});

const sortBy = <T>(items: readonly T[] | null | undefined, key: (t: T) => string): T[] =>
  [...(items ?? [])].sort((a, b) => key(a).localeCompare(key(b)));

/** The facts that describe the node's configuration, without machine identity. */
const comparable = (f: NodeFacts) => ({
  errors: f.errors,
  uid: f.uid,
  links: sortBy(f.links, (l) => l.name).map((l) => ({
    name: l.name,
    kind: l.kind,
    mtu: l.mtu,
    state: l.state,
    flags: l.flags,
    master: l.master,
    linkType: l.linkType,
    vxlan: l.vxlan,
  })),
  addresses: sortBy(f.addresses, (a) => `${a.ifname} ${a.family} ${a.local}`).map((a) =>
    a.family === 'inet6' && a.local.startsWith('fe80:') ? { ...a, local: 'fe80::(from MAC)' } : a,
  ),
  routes: sortBy(f.routes, (r) => `${r.family} ${r.dst} ${r.dev ?? ''}`),
  // ARP entries for the management address come and go with SSH traffic; flannel's are PERMANENT.
  neighbours: sortBy(
    f.neighbours?.filter((n) => n.state.includes('PERMANENT')),
    (n) => n.dst,
  ),
  fdb: Object.fromEntries(
    Object.entries(f.fdb).map(([dev, entries]) => [dev, sortBy(entries, (e) => e.mac)]),
  ),
  routeGets: f.routeGets,
  rpFilter: f.sysctls?.rpFilter,
  ipForward: f.sysctls?.ipForward,
  subnetEnv: f.subnetEnv,
  address: f.address === null ? null : 'probed',
});

test('a lab node and a virtual node configured alike yield equivalent NodeFacts', { skip }, async () => {
  const labExec = createSshExec({
    identityFiles: [lab.ssh!.identityFile],
    knownHostsFile: lab.ssh!.knownHostsFile,
    sshConfigFile: false,
    agentSocket: false,
    home: lab.dir,
  });
  const virtualExec = createSshExec(fleet.sshOptions());
  execs.push(labExec, virtualExec);
  const node2 = lab.node('node-2');
  const peers = [
    node2.address,
    lab.node('node-3').address,
    '10.244.2.5',
    '172.31.0.9',
    real.address,
    '203.0.113.9',
  ];
  const [fromLab, fromVirtual] = await Promise.all([
    probe(labExec, lab.target('node-1'), peers),
    probe(virtualExec, fleet.target('node-1'), peers),
  ]);
  // The comparison must be about something: the interesting facts are present on both sides.
  assert.equal(fromLab.links?.find((l) => l.name === 'flannel.1')?.vxlan?.port, 8472);
  assert.equal(fromLab.neighbours?.filter((n) => n.dev === 'flannel.1').length, 2);
  assert.equal(fromLab.routeGets['203.0.113.9']?.ok, false);
  const self = fromLab.routeGets[real.address];
  assert.ok(self?.ok);
  assert.equal(self.type, 'local');
  const routed = fromLab.routeGets['172.31.0.9'];
  assert.ok(routed?.ok);
  assert.equal(routed.gateway, extraGateway);
  assert.deepEqual(comparable(fromVirtual), comparable(fromLab));
});
