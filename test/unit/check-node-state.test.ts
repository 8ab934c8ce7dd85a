import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backendConsistencyCheck } from '../../src/checks/backend-consistency.ts';
import { kernelCheck } from '../../src/checks/kernel.ts';
import { mtuCheck } from '../../src/checks/mtu.ts';
import { subnetEnvCheck } from '../../src/checks/subnet-env.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import type { NodeFacts, SubnetEnv } from '../../src/facts/node-facts.ts';
import {
  HOSTS,
  apiNode,
  editNode,
  healthyCluster,
  healthyInput,
  loadProbeFacts,
  nodeFactsFor,
  problems,
} from '../helpers/cluster-facts-fixtures.ts';

const subnetEnv = (f: NodeFacts, fields: Partial<SubnetEnv>): NodeFacts => ({
  ...f,
  subnetEnv: { ...(f.subnetEnv as SubnetEnv), ...fields },
});

const sysctls = (f: NodeFacts, fields: Partial<NonNullable<NodeFacts['sysctls']>>): NodeFacts => ({
  ...f,
  sysctls: { ...f.sysctls!, ...fields },
});

/** The cluster mid-migration: ConfigMap says host-gw, node-2 and node-3 still run vxlan. */
const midMigration = () => {
  const input = healthyInput('host-gw');
  const vxlan = loadProbeFacts('iproute2-6.1.0/vxlan');
  return buildClusterFacts({
    ...input,
    api: { ...input.api!, nodes: HOSTS.map((h) => apiNode(h, h.name === 'node-1' ? 'host-gw' : 'vxlan')) },
    nodes: HOSTS.map((h) => ({
      name: h.name,
      facts:
        h.name === 'node-1'
          ? // Restarted on host-gw: routes replaced, but flannel.1 and the pods created before remain.
            {
              ...nodeFactsFor(loadProbeFacts('iproute2-6.1.0/host-gw'), h, HOSTS, 'host-gw'),
              links: vxlan.links,
            }
          : nodeFactsFor(vxlan, h, HOSTS, 'vxlan'),
    })),
  });
};

describe('backend-consistency check', () => {
  it('passes healthy host-gw and vxlan clusters', () => {
    assert.deepEqual(problems(backendConsistencyCheck.evaluate(healthyCluster('host-gw'))), []);
    assert.deepEqual(problems(backendConsistencyCheck.evaluate(healthyCluster('vxlan'))), []);
  });

  it('reports mixed backends, nodes not yet restarted and a leftover flannel.1', () => {
    assert.deepEqual(problems(backendConsistencyCheck.evaluate(midMigration())), [
      'warn backend-consistency/mixed-backends',
      'warn backend-consistency/stale-vxlan-device node-1',
      'fail backend-consistency/annotation-mismatch node-2',
      'warn backend-consistency/stale-vxlan-device node-2',
      'fail backend-consistency/annotation-mismatch node-3',
      'warn backend-consistency/stale-vxlan-device node-3',
    ]);
  });

  it('fails a vxlan node without flannel.1', () => {
    const facts = editNode(healthyCluster('vxlan'), 'node-3', (f) => ({
      ...f,
      links: (f.links ?? []).filter((l) => l.name !== 'flannel.1'),
    }));
    assert.deepEqual(problems(backendConsistencyCheck.evaluate(facts)), [
      'fail backend-consistency/vxlan-device-missing node-3',
    ]);
  });
});

describe('subnet-env check', () => {
  it('passes when subnet.env agrees with the ConfigMap, the podCIDR, the MTU rule and --ip-masq', () => {
    assert.deepEqual(problems(subnetEnvCheck.evaluate(healthyCluster('host-gw'))), []);
    assert.deepEqual(problems(subnetEnvCheck.evaluate(healthyCluster('vxlan'))), []);
  });

  it('fails a node whose flanneld still runs the old backend MTU, and a missing file', () => {
    let facts = editNode(healthyCluster('host-gw'), 'node-2', (f) =>
      subnetEnv(f, { mtu: 1450, raw: { ...(f.subnetEnv as SubnetEnv).raw, FLANNEL_MTU: '1450' } }),
    );
    facts = editNode(facts, 'node-3', (f) => ({ ...f, subnetEnv: 'missing' }));
    const findings = subnetEnvCheck.evaluate(facts);
    assert.deepEqual(problems(findings), [
      'fail subnet-env/mtu-mismatch node-2',
      'fail subnet-env/missing node-3',
    ]);
    assert.deepEqual(findings.find((f) => f.node === 'node-2')!.evidence, [
      '/run/flannel/subnet.env: FLANNEL_MTU=1450',
      '192.168.77.12 is on eth0, mtu 1500; host-gw rule gives 1500',
    ]);
    assert.equal(
      findings.find((f) => f.node === 'node-2')!.remediation,
      'kubectl -n kube-flannel delete pod kube-flannel-ds-node-2  # flanneld rewrites subnet.env at start',
    );
  });

  it('fails a FLANNEL_SUBNET that is not the podCIDR .1', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-1', (f) =>
      subnetEnv(f, { subnet: '10.244.7.1/24' }),
    );
    assert.deepEqual(problems(subnetEnvCheck.evaluate(facts)), ['fail subnet-env/subnet-mismatch node-1']);
  });
});

describe('mtu check', () => {
  it('passes healthy clusters', () => {
    assert.deepEqual(problems(mtuCheck.evaluate(healthyCluster('host-gw'))), []);
    assert.deepEqual(problems(mtuCheck.evaluate(healthyCluster('vxlan'))), []);
  });

  it('fails the node whose uplink MTU is smaller than the others', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-3', (f) => ({
      ...f,
      links: (f.links ?? []).map((l) => (l.name === 'eth0' ? { ...l, mtu: 1400 } : l)),
    }));
    const findings = mtuCheck.evaluate(facts);
    // Its FLANNEL_MTU (1500) is now above the rule (1400) too.
    assert.deepEqual(problems(findings), [
      'fail mtu/uplink-mismatch node-3',
      'fail mtu/flannel-mtu-mismatch node-3',
    ]);
    assert.equal(
      findings.find((f) => f.code === 'mtu/uplink-mismatch')!.remediation,
      'ip link set dev eth0 mtu 1500  # on node-3, and in its network configuration',
    );
  });

  it('warns about pods still at 1450 after a migration to host-gw; cni0 at 1450 with them is expected', () => {
    const facts = midMigration();
    const findings = mtuCheck.evaluate(facts).filter((f) => f.node === 'node-1');
    assert.deepEqual(problems(findings), [
      'warn mtu/pod-veth-mismatch node-1',
      'info mtu/cni0-follows-old-pods node-1',
    ]);
    // The vxlan recording predates the pod-netns section: the veth is listed, its pod unknown.
    assert.deepEqual(findings[0]!.evidence, [
      'vethpod1 mtu 1450: pod not identified (no named network namespace with its peer)',
    ]);
    assert.ok(findings.every((f) => !/cni0 mtu/.test(f.remediation ?? '')));
  });

  it('judges path MTU probe results and fragmentation counters', () => {
    const counters = loadProbeFacts('iproute2-6.1.0/vxlan').snmp!.ipFrag;
    const facts = {
      ...healthyCluster('host-gw'),
      mtuProbe: {
        results: [
          {
            node: 'node-1',
            peer: 'node-2',
            target: 'node' as const,
            address: '192.168.77.12',
            largestPassed: 1500,
            expected: 1500,
          },
          {
            node: 'node-1',
            peer: 'node-3',
            target: 'pod' as const,
            address: '10.244.3.5',
            largestPassed: 1400,
            expected: 1500,
          },
        ],
        fragCounters: { 'node-2': { before: counters, after: { ...counters, fragCreates: 12 } } },
      },
    };
    assert.deepEqual(problems(mtuCheck.evaluate(facts)), [
      'warn mtu/fragmentation node-2',
      'fail mtu/path-mtu-too-small node-1→node-3',
    ]);
  });
});

describe('kernel check', () => {
  it('passes the recorded nodes', () => {
    assert.deepEqual(problems(kernelCheck.evaluate(healthyCluster('host-gw'))), []);
  });

  it('fails ip_forward off and a missing br_netfilter, with the commands to fix them', () => {
    let facts = editNode(healthyCluster('host-gw'), 'node-1', (f) => sysctls(f, { ipForward: 0 }));
    facts = editNode(facts, 'node-2', (f) => sysctls(f, { bridgeNfCallIptables: 'missing' }));
    const findings = kernelCheck.evaluate(facts);
    assert.deepEqual(problems(findings), [
      'fail kernel/ip-forward-off node-1',
      'fail kernel/br-netfilter-missing node-2',
    ]);
    assert.equal(
      findings[0]!.remediation,
      "sysctl -w net.ipv4.ip_forward=1 && printf 'net.ipv4.ip_forward = 1\\n' > /etc/sysctl.d/90-flannelctl-forward.conf  # on node-1",
    );
  });

  it('fails FORWARD policy DROP without FLANNEL-FWD (the recorded multi-NIC node) and warns on a full conntrack table', () => {
    let facts = editNode(healthyCluster('host-gw'), 'node-1', () =>
      loadProbeFacts('iproute2-6.1.0/rp-filter-multi-nic'),
    );
    facts = editNode(facts, 'node-2', (f) => sysctls(f, { conntrackCount: 250000, conntrackMax: 262144 }));
    assert.deepEqual(problems(kernelCheck.evaluate(facts)), [
      'fail kernel/forward-drop node-1',
      'warn kernel/conntrack-near-full node-2',
    ]);
  });

  it('passes FORWARD DROP when flannel’s accept rules are present', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-1', (f) => ({
      ...f,
      iptables: {
        version: 'v1.8.9 (nf_tables)',
        forwardPolicy: 'DROP',
        forwardRules: ['-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD'],
      },
    }));
    assert.deepEqual(problems(kernelCheck.evaluate(facts)), []);
  });
});
