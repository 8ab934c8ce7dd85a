// Dual stack (net-conf EnableIPv6, IPv6 podCIDRs, public-ipv6): the routes and l2-adjacency checks
// judge the IPv6 half as flanneld programs it, on facts built from the recorded dual-stack fixtures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { l2AdjacencyCheck } from '../../src/checks/l2-adjacency.ts';
import { routesCheck } from '../../src/checks/routes.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import type { NodeFacts } from '../../src/facts/node-facts.ts';
import {
  configMap,
  dualStackCluster,
  dualStackInput,
  editNode,
  healthyCluster,
  problems,
  route6,
} from '../helpers/cluster-facts-fixtures.ts';

const editRoutes = (
  f: NodeFacts,
  edit: (routes: NonNullable<NodeFacts['routes']>) => NodeFacts['routes'],
) => ({
  ...f,
  routes: edit(f.routes ?? []),
});

describe('routes check under dual stack', () => {
  it('passes healthy dual-stack host-gw and vxlan clusters, counting IPv6 routes in the pass', () => {
    for (const backend of ['host-gw', 'vxlan'] as const) {
      const findings = routesCheck.evaluate(dualStackCluster(backend));
      assert.deepEqual(problems(findings), [], backend);
      assert.equal(
        findings.find((f) => f.node === 'node-1')!.message,
        `node-1 has one correct ${backend} route to each of 2 peers, and one IPv6 route to each of 2`,
      );
    }
  });

  it('reports a missing IPv6 host-gw route with the ip -6 route that flanneld would add', () => {
    const facts = editNode(dualStackCluster('host-gw'), 'node-2', (f) =>
      editRoutes(f, (rs) => rs.filter((r) => r.dst !== 'fd00:10:244:3::/64')),
    );
    const findings = routesCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail routes/missing node-2→node-3']);
    const missing = findings.find((f) => f.code === 'routes/missing')!;
    assert.equal(
      missing.message,
      "node-2 has no IPv6 route to node-3's IPv6 podCIDR fd00:10:244:3::/64: pods there are unreachable from node-2",
    );
    assert.match(
      missing.remediation!,
      /^ip -6 route replace fd00:10:244:3::\/64 via fd00:77::13 dev eth0 {2}# on node-2/,
    );
  });

  it('a missing IPv4 route is still found when the IPv6 one is present', () => {
    const facts = editNode(dualStackCluster('host-gw'), 'node-1', (f) =>
      editRoutes(f, (rs) => rs.filter((r) => r.dst !== '10.244.2.0/24')),
    );
    const missing = routesCheck.evaluate(facts).filter((f) => f.severity !== 'pass');
    assert.deepEqual(problems(missing), ['fail routes/missing node-1→node-2']);
    assert.match(
      missing[0]!.remediation!,
      /^ip route replace 10\.244\.2\.0\/24 via 192\.168\.77\.12 dev eth0/,
    );
  });

  it('under host-gw flags an IPv6 route left on flannel-v6.1 and a wrong IPv6 next hop', () => {
    let facts = editNode(dualStackCluster('host-gw'), 'node-1', (f) =>
      editRoutes(f, (rs) =>
        rs.map((r) =>
          r.dst === 'fd00:10:244:2::/64'
            ? { ...r, gateway: 'fd00:10:244:2::', dev: 'flannel-v6.1', flags: ['onlink'] }
            : r,
        ),
      ),
    );
    facts = editNode(facts, 'node-3', (f) =>
      editRoutes(f, (rs) =>
        rs.map((r) => (r.dst === 'fd00:10:244:1::/64' ? { ...r, gateway: 'fd00:77::99' } : r)),
      ),
    );
    const findings = routesCheck.evaluate(facts);
    assert.deepEqual(problems(findings), [
      'fail routes/stale-vxlan-route node-1→node-2',
      'fail routes/wrong-next-hop node-3→node-1',
    ]);
    assert.equal(
      findings.find((f) => f.code === 'routes/wrong-next-hop')!.message,
      "node-3 routes node-1's IPv6 podCIDR fd00:10:244:1::/64 via fd00:77::99 dev eth0, expected via fd00:77::11 dev eth0",
    );
  });

  it('checks flannel-v6.1 neighbours against backend-v6-data and fdb entries against public-ipv6', () => {
    let facts = editNode(dualStackCluster('vxlan'), 'node-1', (f) => ({
      ...f,
      neighbours: (f.neighbours ?? []).map((n) =>
        n.dst === 'fd00:10:244:2::' ? { ...n, lladdr: '0e:fc:00:00:06:99' } : n,
      ),
    }));
    facts = editNode(facts, 'node-2', (f) => ({
      ...f,
      fdb: { ...f.fdb, 'flannel-v6.1': (f.fdb['flannel-v6.1'] ?? []).filter((e) => e.dst !== 'fd00:77::13') },
    }));
    const findings = routesCheck.evaluate(facts);
    assert.deepEqual(problems(findings), [
      'fail routes/neighbour-wrong-mac node-1→node-2',
      'fail routes/fdb-missing node-2→node-3',
    ]);
    const wrongMac = findings.find((f) => f.code === 'routes/neighbour-wrong-mac')!;
    assert.deepEqual(wrongMac.evidence.slice(1), [
      'annotation backend-v6-data of node-2: VtepMAC 0e:fc:00:00:06:12',
    ]);
    assert.equal(
      wrongMac.remediation,
      'ip -6 neigh replace fd00:10:244:2:: dev flannel-v6.1 lladdr 0e:fc:00:00:06:12 nud permanent  # on node-1',
    );
    assert.equal(
      findings.find((f) => f.code === 'routes/fdb-missing')!.remediation,
      'bridge fdb replace 0e:fc:00:00:06:13 dev flannel-v6.1 dst fd00:77::13  # on node-2',
    );
  });

  it('reports IPv6 routes into IPv6Network that no node owns, but not the kernel address routes', () => {
    const facts = editNode(dualStackCluster('vxlan'), 'node-3', (f) =>
      editRoutes(f, (rs) => [
        ...rs,
        route6('fd00:10:244:9::/64', { gateway: 'fd00:10:244:9::', dev: 'flannel-v6.1', flags: ['onlink'] }),
      ]),
    );
    const findings = routesCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['warn routes/stale node-3']);
    assert.equal(
      findings.find((f) => f.code === 'routes/stale')!.remediation,
      'ip -6 route del fd00:10:244:9::/64 dev flannel-v6.1  # on node-3',
    );
  });

  it('says which nodes lack an IPv6 podCIDR or public-ipv6 annotation instead of guessing', () => {
    const input = dualStackInput('host-gw');
    const nodes = input.api!.nodes.map((n) => {
      const node = n as { metadata: { name: string; annotations: Record<string, string> } };
      if (node.metadata.name !== 'node-3') return n;
      const { ['flannel.alpha.coreos.com/public-ipv6']: _drop, ...annotations } = node.metadata.annotations;
      return { ...node, metadata: { ...node.metadata, annotations } };
    });
    const findings = routesCheck.evaluate(buildClusterFacts({ ...input, api: { ...input.api!, nodes } }));
    assert.deepEqual(problems(findings), ['info routes/peers-incomplete']);
    assert.match(findings[0]!.message, /^IPv6 routes toward node-3 are not checked/);
  });

  it('without EnableIPv6 the IPv6 routes on the nodes are not judged: the IPv4 report is unchanged', () => {
    const dual = dualStackInput('host-gw');
    const v4Only = buildClusterFacts({
      ...dual,
      api: {
        ...dual.api!,
        configMap: configMap({
          Network: '10.244.0.0/16',
          EnableNFTables: false,
          Backend: { Type: 'host-gw' },
        }),
      },
    });
    const broken = editNode(v4Only, 'node-2', (f) =>
      editRoutes(f, (rs) => rs.filter((r) => r.family === 'inet')),
    );
    assert.deepEqual(routesCheck.evaluate(broken), routesCheck.evaluate(healthyCluster('host-gw')));
  });

  it('an IPv6-only net-conf (EnableIPv4 false) checks IPv6 alone', () => {
    const dual = dualStackInput('host-gw');
    const facts = buildClusterFacts({
      ...dual,
      api: {
        ...dual.api!,
        configMap: configMap({
          EnableIPv4: false,
          EnableIPv6: true,
          IPv6Network: 'fd00:10:244::/56',
          Backend: { Type: 'host-gw' },
        }),
      },
    });
    const findings = routesCheck.evaluate(
      editNode(facts, 'node-1', (f) => editRoutes(f, (rs) => rs.filter((r) => r.family === 'inet6'))),
    );
    assert.deepEqual(problems(findings), []);
    assert.equal(
      findings.find((f) => f.node === 'node-1')!.message,
      'node-1 has one correct host-gw IPv6 route to each of 2 peers',
    );
  });
});

describe('l2-adjacency check under dual stack', () => {
  it('passes when every peer is on-link over IPv4 and IPv6 (recorded ip -j route get)', () => {
    const findings = l2AdjacencyCheck.evaluate(dualStackCluster('host-gw'));
    assert.deepEqual(problems(findings), []);
    assert.equal(
      findings.find((f) => f.node === 'node-1')!.message,
      'node-1 is L2-adjacent to 2 peers, and over IPv6 to 2',
    );
  });

  it('fails host-gw for a peer reached over IPv6 through a router, naming the IPv6 errno', () => {
    const facts = editNode(dualStackCluster('host-gw'), 'node-2', (f) => ({
      ...f,
      routeGets: {
        ...f.routeGets,
        'fd00:77::13': {
          ...f.routeGets['fd00:77::13']!,
          gateway: 'fd00:77::1',
        } as NodeFacts['routeGets'][string],
      },
    }));
    const findings = l2AdjacencyCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail l2-adjacency/routed node-2→node-3']);
    assert.match(
      findings.find((f) => f.code === 'l2-adjacency/routed')!.message,
      /^node-2 reaches node-3 \(fd00:77::13\) through router fd00:77::1: .*no route to host/,
    );
  });

  it('says when ip route get was not run for IPv6 peers', () => {
    const facts = editNode(dualStackCluster('host-gw'), 'node-3', (f) => ({
      ...f,
      routeGets: Object.fromEntries(Object.entries(f.routeGets).filter(([ip]) => !ip.includes(':'))),
    }));
    const findings = l2AdjacencyCheck.evaluate(facts).filter((f) => f.node === 'node-3');
    assert.deepEqual(problems(findings), ['info l2-adjacency/not-probed node-3']);
    assert.equal(findings[0]!.message, 'ip route get was not run on node-3 for 2 IPv6 peers: node-1, node-2');
  });
});
