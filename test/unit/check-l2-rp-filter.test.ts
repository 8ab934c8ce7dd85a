import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import type { NodeFacts } from '../../src/facts/node-facts.ts';
import { buildL2Matrix, l2AdjacencyCheck, summarizeL2Matrix } from '../../src/checks/l2-adjacency.ts';
import { rpFilterCheck } from '../../src/checks/rp-filter.ts';
import {
  HOSTS,
  editNode,
  healthyCluster,
  healthyInput,
  host,
  loadProbeFacts,
  nodeFactsFor,
  problems,
  route,
} from '../helpers/cluster-facts-fixtures.ts';

/** node-4 sits behind a router (192.168.78.0/24); the recorded node-1 already probed it as routed. */
const withRoutedPeer = (backend: 'host-gw' | 'vxlan') => {
  const hosts = [...HOSTS, host(4, '192.168.78.14')];
  const template = loadProbeFacts(`iproute2-6.1.0/${backend}`);
  const facts = Object.fromEntries(hosts.map((h) => [h.name, nodeFactsFor(template, h, hosts, backend)]));
  // The recorded node-1, verbatim: its `ip route get 192.168.78.14` answered "via 192.168.77.1".
  facts['node-1'] = { ...template, routes: [...(template.routes ?? [])] };
  return buildClusterFacts(healthyInput(backend, { hosts, facts }));
};

const rp = (f: NodeFacts, all: number, interfaces: Record<string, number>): NodeFacts => ({
  ...f,
  sysctls: {
    ...f.sysctls!,
    rpFilter: {
      ...f.sysctls!.rpFilter,
      all,
      interfaces: { ...f.sysctls!.rpFilter.interfaces, ...interfaces },
    },
  },
});

describe('l2-adjacency check', () => {
  it('passes when every peer is one hop away on the flannel interface', () => {
    assert.deepEqual(problems(l2AdjacencyCheck.evaluate(healthyCluster('host-gw'))), []);
  });

  it('fails a routed peer under host-gw and suggests vxlan with DirectRouting', () => {
    const findings = l2AdjacencyCheck.evaluate(withRoutedPeer('host-gw'));
    const routed = findings.filter((f) => f.code === 'l2-adjacency/routed');
    assert.deepEqual(problems(routed), ['fail l2-adjacency/routed node-1→node-4']);
    assert.deepEqual(routed[0]!.evidence, [
      'ip route get 192.168.78.14: 192.168.78.14 via 192.168.77.1 dev eth0 src 192.168.77.11',
    ]);
    assert.match(routed[0]!.remediation!, /DirectRouting/);
  });

  it('only informs about a routed peer under vxlan', () => {
    const routed = l2AdjacencyCheck
      .evaluate(withRoutedPeer('vxlan'))
      .filter((f) => f.code === 'l2-adjacency/routed');
    assert.deepEqual(problems(routed), ['info l2-adjacency/routed node-1→node-4']);
  });

  it('fails a peer reached through another interface than flannel uses', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-2', (f) => ({
      ...f,
      routeGets: {
        ...f.routeGets,
        '192.168.77.13': {
          peer: '192.168.77.13',
          ok: true,
          source: 'json',
          dst: '192.168.77.13',
          type: 'unicast',
          gateway: null,
          dev: 'eth1',
          prefsrc: null,
          more: null,
        },
      },
    }));
    assert.deepEqual(problems(l2AdjacencyCheck.evaluate(facts)), [
      'fail l2-adjacency/other-interface node-2→node-3',
    ]);
  });

  it('builds a node×node matrix and L2 segments', () => {
    const matrix = buildL2Matrix(withRoutedPeer('host-gw'));
    assert.deepEqual(matrix.nodes, ['node-1', 'node-2', 'node-3', 'node-4']);
    assert.deepEqual(matrix.cells[0], ['self', 'adjacent', 'adjacent', 'routed']);
    assert.equal(matrix.counts.routed, 1);
    // The generated peers call node-4 adjacent, so one segment joins all; the row says node-1 is routed.
    assert.equal(matrix.segments.length, 1);
    const lines = summarizeL2Matrix(matrix);
    assert.equal(lines[1], 'node-1    · L2 L2  R');
    const big = summarizeL2Matrix(matrix, 2);
    assert.deepEqual(big, [
      '1 L2 segment: [4 nodes: node-1, node-2, node-3]'.replace(']', ' and 1 more]'),
      'pairs: adjacent 11, routed 1',
    ]);
  });
});

describe('rp-filter check', () => {
  it('passes the recorded host-gw node (rp_filter off)', () => {
    assert.deepEqual(problems(rpFilterCheck.evaluate(healthyCluster('host-gw'))), []);
  });

  it('warns on strict rp_filter when the paths are symmetric', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-2', (f) => rp(f, 0, { eth0: 1 }));
    const findings = rpFilterCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['warn rp-filter/strict-symmetric node-2']);
    assert.match(
      findings.find((f) => f.node === 'node-2')!.remediation!,
      /^sysctl -w net\.ipv4\.conf\.all\.rp_filter=2 net\.ipv4\.conf\.eth0\.rp_filter=2 && printf .* > \/etc\/sysctl\.d\/90-flannelctl-rp-filter\.conf {2}# on node-2$/,
    );
  });

  it('passes the recorded multi-NIC node: only eth1, which flannel does not use, is strict', () => {
    const multi = loadProbeFacts('iproute2-6.1.0/rp-filter-multi-nic');
    const findings = rpFilterCheck.evaluate(editNode(healthyCluster('host-gw'), 'node-1', () => multi));
    assert.deepEqual(problems(findings), []);
    assert.deepEqual(findings[0]!.evidence, [
      'net.ipv4.conf.all.rp_filter = 0',
      'net.ipv4.conf.eth0.rp_filter = 2 (effective 2, loose)',
    ]);
  });

  it('fails strict rp_filter on a multi-NIC node whose best default route leaves via eth1', () => {
    const multi = loadProbeFacts('iproute2-6.1.0/rp-filter-multi-nic');
    const node1 = rp(
      {
        ...multi,
        routes: [
          ...(multi.routes ?? []).map((r) => (r.dst === 'default' ? { ...r, metric: 300 } : r)),
          route('default', { gateway: '10.10.0.1', dev: 'eth1', metric: 200 }),
        ],
      },
      0,
      { eth0: 1 },
    );
    const findings = rpFilterCheck.evaluate(editNode(healthyCluster('host-gw'), 'node-1', () => node1));
    assert.deepEqual(problems(findings), ['fail rp-filter/strict-asymmetric node-1']);
    const f = findings.find((x) => x.node === 'node-1')!;
    assert.ok(f.evidence.includes('net.ipv4.conf.eth0.rp_filter = 1 (effective 1, strict)'));
    assert.ok(
      f.evidence.includes(
        'best default route leaves via eth1, flannel uses eth0: default via 10.10.0.1 dev eth1 metric 200',
      ),
    );
  });

  it('uses max(all, iface): all=2 makes a strict interface loose', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-3', (f) => rp(f, 2, { eth0: 1 }));
    assert.deepEqual(problems(rpFilterCheck.evaluate(facts)), []);
  });

  it('checks flannel.1 under vxlan with the slash form of its sysctl key', () => {
    const facts = editNode(healthyCluster('vxlan'), 'node-1', (f) => rp(f, 0, { 'flannel.1': 1 }));
    const finding = rpFilterCheck.evaluate(facts).find((f) => f.node === 'node-1')!;
    assert.equal(finding.code, 'rp-filter/strict-symmetric');
    assert.match(finding.remediation!, /net\/ipv4\/conf\/flannel\.1\/rp_filter=2/);
  });
});
