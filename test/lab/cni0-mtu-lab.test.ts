// cni0's MTU on the real kernel after a vxlan -> host-gw switch, with pods created the way kubelet and
// flannel create them (lab.addPod: flannel's CNI step, then the real bridge plugin). Each node got an
// "old" pod while subnet.env said FLANNEL_MTU=1450 (vxlan), so the bridge plugin created cni0 at 1450,
// and a "new" one after flanneld rewrote it to 1500 (host-gw). The probe runs in the node's namespace
// and doctor's mtu check judges it: cni0 at 1450 is expected (net/bridge/br_if.c br_mtu_auto_adjust
// takes the smallest port) and names the old pod by IP; it rises by itself when that pod goes; a cni0
// pinned with `ip link set cni0 mtu 1500` is flagged, and it turns the ICMP "fragmentation needed" that
// senders on other nodes get into a silent drop at the bridge (br_forward.c is_skb_forwardable).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { mtuCheck } from '../../src/checks/mtu.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { newProbeNonce } from '../../src/facts/probe-input.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { defaultSubnetEnv, programHostGw, writeSubnetEnv } from '../../src/lab/backends.ts';
import { cniPaths } from '../../src/lab/cni.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab, LabNode, LabPod } from '../../src/lab/types.ts';
import { labRequirement } from '../helpers/requirements.ts';

const skip = labRequirement();
let lab: Lab;
let n1: LabNode, n2: LabNode;
/** Per node: the pod from the vxlan days (1450) and the one created after the switch (1500). */
const old = new Map<string, LabPod>();
const fresh = new Map<string, LabPod>();

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 2, ssh: false, podsPerNode: 0 });
  [n1, n2] = lab.nodes as [LabNode, LabNode];
  for (const node of lab.nodes) {
    writeSubnetEnv(node, defaultSubnetEnv(node, 'vxlan'));
    old.set(node.name, await lab.addPod(node.name));
  }
  // The switch: host-gw routes, and flanneld rewrites subnet.env with the interface MTU.
  for (const node of lab.nodes) {
    await programHostGw(node, lab.nodes);
    writeSubnetEnv(node, defaultSubnetEnv(node, 'host-gw'));
    fresh.set(node.name, await lab.addPod(node.name));
  }
});
after(() => lab?.destroy());

const mtuOf = async (netns: string, dev: string): Promise<number> =>
  (JSON.parse((await lab.exec(netns, ['ip', '-j', 'link', 'show', dev])).stdout) as { mtu: number }[])[0]!
    .mtu;

/** doctor's mtu check (with --backend host-gw) on this node as the probe sees it now; passes left out. */
const mtuFindings = (node: LabNode) => {
  const nonce = newProbeNonce();
  const paths = cniPaths(node);
  const script = buildProbeScript({
    nonce,
    peers: [],
    subnetEnvPath: paths.subnetFile,
    cniConfDir: paths.confDir,
  });
  const res = spawnSync('ip', ['netns', 'exec', node.netns, 'sh', '-s'], { input: script, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const facts = buildClusterFacts({
    nodes: [
      {
        name: node.name,
        address: node.address,
        facts: parseProbeOutput(node.name, res.stdout, nonce, { address: node.address }),
      },
    ],
    backend: 'host-gw',
  });
  return mtuCheck.evaluate(facts).filter((f) => f.severity !== 'pass');
};

/** One ping of `size` bytes of payload (+28 = the IP packet) from one pod to another. */
const ping = (from: LabPod, to: LabPod, size: number, df: 'do' | 'dont') =>
  lab.tryExec(from.netns, ['ping', '-c', '1', '-W', '1', '-M', df, '-s', String(size), to.address]);

test(
  'after the switch cni0 stays at 1450 while an old pod is attached; doctor says expected and names that pod',
  { skip },
  async () => {
    const [o, f] = [old.get(n1.name)!, fresh.get(n1.name)!];
    assert.equal(await mtuOf(o.netns, 'eth0'), 1450, 'the old pod got FLANNEL_MTU of the vxlan days');
    assert.equal(await mtuOf(f.netns, 'eth0'), 1500, 'the new pod got the new FLANNEL_MTU');
    assert.equal(await mtuOf(n1.netns, 'cni0'), 1450, 'the kernel keeps cni0 at its smallest port');
    const findings = mtuFindings(n1);
    assert.deepEqual(
      findings.map((x) => x.code),
      ['mtu/pod-veth-mismatch', 'mtu/cni0-follows-old-pods'],
    );
    for (const x of findings) {
      assert.ok(
        x.evidence.some((e) => e.includes(`pod ${o.address} (netns ${o.netns})`)),
        `${x.code}: ${x.evidence.join('; ')}`,
      );
      assert.ok(!x.evidence.some((e) => e.includes(f.address)), `${x.code} must not list the new pod`);
      assert.match(x.remediation ?? '', new RegExp(`grep -wF -e ${o.address.replaceAll('.', '\\.')} `));
      assert.doesNotMatch(x.remediation ?? '', /mtu \d/, 'never advises setting an MTU by hand');
    }
  },
);

test(
  'what the old pod loses: over 1450 bytes from a new pod on its node, silently; from other nodes, ICMP tells the sender',
  { skip },
  async () => {
    const target = old.get(n1.name)!;
    const neighbour = fresh.get(n1.name)!;
    assert.equal((await ping(neighbour, target, 1400, 'dont')).code, 0, 'within both MTUs');
    const big = await ping(neighbour, target, 1472, 'dont');
    assert.notEqual(big.code, 0, 'a 1500-byte frame to the 1450 port is dropped at the bridge');
    assert.doesNotMatch(big.stdout, /Frag needed/, 'and no ICMP error tells the sender');
    // Routed into cni0 at 1450 on node 1: the IP layer answers, so path MTU discovery works.
    const remote = await ping(fresh.get(n2.name)!, target, 1472, 'do');
    assert.match(remote.stdout, /Frag needed and DF set \(mtu = 1450\)/, remote.stdout + remote.stderr);
  },
);

test(
  'cni0 pinned with `ip link set cni0 mtu 1500` is flagged, stays pinned, and drops silently what ICMP answered',
  { skip },
  async () => {
    await lab.exec(n2.netns, ['ip', 'link', 'set', 'cni0', 'mtu', '1500']);
    assert.deepEqual(
      mtuFindings(n2).map((x) => x.code),
      ['mtu/pod-veth-mismatch', 'mtu/cni0-pinned'],
    );
    const remote = await ping(fresh.get(n1.name)!, old.get(n2.name)!, 1472, 'do');
    assert.notEqual(remote.code, 0, 'the packet passes the IP layer and is dropped at the 1450 port');
    assert.doesNotMatch(remote.stdout, /Frag needed/, 'the sender is not told');
    // An unpinned bridge would fall back to its smallest port (1450) here (BROPT_MTU_SET_BY_USER).
    await lab.deletePod(fresh.get(n2.name)!);
    assert.equal(await mtuOf(n2.netns, 'cni0'), 1500, 'a pinned cni0 no longer follows its ports');
  },
);

test(
  'an unpinned cni0 rises by itself when the old pod goes; then doctor has nothing to say',
  { skip },
  async () => {
    await lab.deletePod(old.get(n1.name)!);
    assert.equal(await mtuOf(n1.netns, 'cni0'), 1500, 'cni0 rose to its remaining port');
    assert.deepEqual(mtuFindings(n1), []);
  },
);
