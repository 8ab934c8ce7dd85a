// cni0's MTU judged the way the kernel sets it: a bridge follows the smallest MTU of its ports unless
// its MTU was set by hand (net/bridge/br_if.c br_mtu_auto_adjust; net/bridge/br_device.c br_change_mtu
// sets BROPT_MTU_SET_BY_USER). The node is the one recorded on the real kernel after vxlan -> host-gw:
// cni0 at 1450, an old pod at 1450 (10.244.1.2) and a new one at 1500 (10.244.1.3), FLANNEL_MTU 1500.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mtuCheck } from '../../src/checks/mtu.ts';
import type { Finding } from '../../src/checks/types.ts';
import type { ClusterFacts } from '../../src/facts/cluster-facts.ts';
import type { NodeFacts } from '../../src/facts/node-facts.ts';
import { editNode, healthyCluster, loadProbeFacts, problems } from '../helpers/cluster-facts-fixtures.ts';

const recorded = loadProbeFacts('iproute2-6.1.0/stale-pod-mtu');

const node1 = (edit: (f: NodeFacts) => NodeFacts = (f) => f): ClusterFacts =>
  editNode(healthyCluster('host-gw'), 'node-1', (f) =>
    edit({ ...f, links: recorded.links, podInterfaces: recorded.podInterfaces }),
  );

const withCni0Mtu = (mtu: number) => (f: NodeFacts) => ({
  ...f,
  links: f.links!.map((l) => (l.name === 'cni0' ? { ...l, mtu } : l)),
});

const onNode1 = (facts: ClusterFacts): Finding[] =>
  mtuCheck.evaluate(facts).filter((f) => f.node === 'node-1');
const find = (findings: Finding[], code: string): Finding => {
  const f = findings.find((x) => x.code === code);
  assert.ok(f, `${code} in ${JSON.stringify(problems(findings))}`);
  return f;
};

describe('mtu check: cni0 and the pods on it', () => {
  it('says cni0 below FLANNEL_MTU is expected while an old pod is attached, and lists that pod to recreate', () => {
    const findings = onNode1(node1());
    assert.deepEqual(problems(findings), [
      'warn mtu/pod-veth-mismatch node-1',
      'info mtu/cni0-follows-old-pods node-1',
    ]);
    const cni0 = find(findings, 'mtu/cni0-follows-old-pods');
    assert.match(
      cni0.message,
      /expected, a bridge takes the smallest MTU of its ports and 1 pod is still at 1450/,
    );
    assert.match(cni0.message, /Do not set cni0's MTU by hand/);
    assert.deepEqual(cni0.evidence, [
      'cni0 mtu 1450 (smallest port 1450)',
      'vethpod1 mtu 1450: pod 10.244.1.2 (netns fcf-RUN-stale-pod)',
    ]);
    // Only the old pod is to be recreated, found by its IP on its node; the new one (10.244.1.3) is fine.
    assert.match(
      cni0.remediation!,
      /^kubectl get pods -A -o wide --field-selector spec\.nodeName=node-1 \| grep -wF -e 10\.244\.1\.2 {2}#/,
    );
    const pods = find(findings, 'mtu/pod-veth-mismatch');
    assert.deepEqual(pods.evidence, ['vethpod1 mtu 1450: pod 10.244.1.2 (netns fcf-RUN-stale-pod)']);
    for (const f of findings) assert.doesNotMatch(f.remediation ?? '', /mtu \d/, f.code);
  });

  it('states what old and new pods break between them: UDP above the smaller MTU, not TCP', () => {
    const { message } = find(onNode1(node1()), 'mtu/pod-veth-mismatch');
    assert.match(message, /TCP between old and new pods is unaffected/);
    assert.match(
      message,
      /UDP datagrams above 1450 bytes to a pod at 1450 are dropped silently when they come from a pod on the same node/,
    );
    assert.match(message, /ICMP "fragmentation needed" and later ones arrive as IP fragments/);
  });

  it('flags a cni0 pinned above its smallest port (someone ran ip link set cni0 mtu 1500)', () => {
    const findings = onNode1(node1(withCni0Mtu(1500)));
    assert.deepEqual(problems(findings), [
      'warn mtu/pod-veth-mismatch node-1',
      'warn mtu/cni0-pinned node-1',
    ]);
    const pinned = find(findings, 'mtu/cni0-pinned');
    assert.match(pinned.message, /MTU 1500 above its smallest port \(1450\): its MTU was set by hand/);
    assert.match(pinned.message, /to the 1 pod at a smaller MTU are dropped silently at the bridge/);
    // Only a new cni0 follows its ports again; never another `ip link set cni0 mtu`.
    assert.match(pinned.remediation!, /ip link del cni0 {2}# on node-1/);
    assert.doesNotMatch(pinned.remediation!, /mtu \d/);
  });

  it('flags a cni0 that stays below every port', () => {
    const findings = onNode1(node1(withCni0Mtu(1400)));
    const pinned = find(findings, 'mtu/cni0-pinned');
    assert.match(pinned.message, /MTU 1400 below every port \(smallest 1450\)/);
    assert.match(
      pinned.message,
      /every pod on node-1 receives at most 1400 bytes per packet from other nodes/,
    );
  });

  it('passes cni0 at FLANNEL_MTU once the old pod is gone', () => {
    const findings = onNode1(
      node1((f) => ({
        ...f,
        links: f
          .links!.filter((l) => l.name !== 'vethpod1')
          .map((l) => (l.name === 'cni0' ? { ...l, mtu: 1500 } : l)),
      })),
    );
    assert.deepEqual(problems(findings), []);
  });

  it('draws no conclusion from an empty cni0 (the kernel resets it to 1500, the next pod sets it)', () => {
    const empty = (f: NodeFacts) => ({ ...f, links: f.links!.filter((l) => l.master !== 'cni0') });
    assert.deepEqual(problems(onNode1(node1((f) => withCni0Mtu(1450)(empty(f))))), []);
  });

  it('does not call cni0 pinned on kernels before 4.17, which had no MTU auto-adjust', () => {
    const findings = onNode1(node1((f) => ({ ...withCni0Mtu(1500)(f), kernel: '3.10.0-1160.el7.x86_64' })));
    assert.deepEqual(problems(findings), ['warn mtu/pod-veth-mismatch node-1']);
  });

  it('falls back to drain and uncordon when a stale veth cannot be tied to a pod', () => {
    const findings = onNode1(node1((f) => ({ ...f, podInterfaces: [] })));
    assert.equal(
      find(findings, 'mtu/pod-veth-mismatch').remediation,
      'kubectl drain node-1 --ignore-daemonsets --delete-emptydir-data && kubectl uncordon node-1',
    );
  });
});
