import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import type { NodeFacts } from '../../src/facts/node-facts.ts';
import { routesCheck } from '../../src/checks/routes.ts';
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

const setRoutes = (f: NodeFacts, edit: (routes: NodeFacts['routes'] & object) => NodeFacts['routes']) => ({
  ...f,
  routes: edit(f.routes ?? []),
});

describe('routes check', () => {
  it('passes a healthy host-gw cluster built from the recorded fixture', () => {
    const findings = routesCheck.evaluate(healthyCluster('host-gw'));
    assert.deepEqual(problems(findings), []);
    assert.deepEqual(
      findings.map((f) => f.node),
      ['node-1', 'node-2', 'node-3'],
    );
  });

  it('passes a healthy vxlan cluster with neighbours and fdb entries', () => {
    assert.deepEqual(problems(routesCheck.evaluate(healthyCluster('vxlan'))), []);
  });

  it('reports a missing host-gw route naming node and peer, with the route to add', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-2', (f) =>
      setRoutes(f, (rs) => rs.filter((r) => r.dst !== '10.244.3.0/24')),
    );
    const findings = routesCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail routes/missing node-2→node-3']);
    const missing = findings.find((f) => f.code === 'routes/missing')!;
    assert.match(missing.remediation!, /^ip route replace 10\.244\.3\.0\/24 via 192\.168\.77\.13 dev eth0/);
  });

  it('flags a stale flannel.1 route under host-gw (mid-migration leftover)', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-1', (f) =>
      setRoutes(f, (rs) =>
        rs.map((r) =>
          r.dst === '10.244.2.0/24'
            ? { ...r, gateway: '10.244.2.0', dev: 'flannel.1', flags: ['onlink'] }
            : r,
        ),
      ),
    );
    const findings = routesCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail routes/stale-vxlan-route node-1→node-2']);
    assert.deepEqual(findings.find((f) => f.node === 'node-1')!.evidence, [
      '10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink',
    ]);
  });

  it('tells a wrong next hop, a wrong device and a duplicate apart', () => {
    let facts = editNode(healthyCluster('host-gw'), 'node-1', (f) =>
      setRoutes(f, (rs) =>
        rs.map((r) => (r.dst === '10.244.2.0/24' ? { ...r, gateway: '192.168.77.99' } : r)),
      ),
    );
    facts = editNode(facts, 'node-2', (f) =>
      setRoutes(f, (rs) => rs.map((r) => (r.dst === '10.244.1.0/24' ? { ...r, dev: 'eth1' } : r))),
    );
    facts = editNode(facts, 'node-3', (f) =>
      setRoutes(f, (rs) => [...rs, route('10.244.1.0/24', { gateway: '192.168.77.11', metric: 100 })]),
    );
    assert.deepEqual(problems(routesCheck.evaluate(facts)), [
      'fail routes/wrong-next-hop node-1→node-2',
      'fail routes/wrong-device node-2→node-1',
      'fail routes/duplicate node-3→node-1',
    ]);
  });

  it('reports routes to subnets no node owns as stale', () => {
    const facts = editNode(healthyCluster('host-gw'), 'node-3', (f) =>
      setRoutes(f, (rs) => [...rs, route('10.244.9.0/24', { gateway: '192.168.77.19' })]),
    );
    const findings = routesCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['warn routes/stale node-3']);
    assert.match(
      findings.find((f) => f.code === 'routes/stale')!.remediation!,
      /^ip route del 10\.244\.9\.0\/24 dev eth0/,
    );
  });

  it('checks vxlan neighbours against the peer VtepMAC and fdb entries against its public IP', () => {
    let facts = editNode(healthyCluster('vxlan'), 'node-1', (f) => ({
      ...f,
      neighbours: (f.neighbours ?? []).map((n) =>
        n.dst === '10.244.2.0' ? { ...n, lladdr: '0e:fc:00:00:00:99' } : n,
      ),
    }));
    facts = editNode(facts, 'node-2', (f) => ({
      ...f,
      fdb: {
        'flannel.1': (f.fdb['flannel.1'] ?? []).map((e) =>
          e.mac === '0e:fc:00:00:00:13' ? { ...e, dst: '192.168.77.99' } : e,
        ),
      },
    }));
    facts = editNode(facts, 'node-3', (f) => ({
      ...f,
      neighbours: (f.neighbours ?? []).filter((n) => n.dst !== '10.244.1.0'),
    }));
    assert.deepEqual(problems(routesCheck.evaluate(facts)), [
      'fail routes/neighbour-wrong-mac node-1→node-2',
      'fail routes/fdb-wrong-dst node-2→node-3',
      'fail routes/neighbour-missing node-3→node-1',
    ]);
  });

  it('under vxlan DirectRouting expects direct routes to adjacent peers and vxlan to routed ones', () => {
    const hosts = [...HOSTS, host(4, '192.168.78.14')];
    const template = loadProbeFacts('iproute2-6.1.0/vxlan');
    const facts4 = Object.fromEntries(hosts.map((h) => [h.name, nodeFactsFor(template, h, hosts, 'vxlan')]));
    // node-1 is adjacent to node-2 (direct route) but reaches node-4 through a router (vxlan route).
    const n1 = facts4['node-1']!;
    facts4['node-1'] = {
      ...n1,
      routes: (n1.routes ?? []).map((r) =>
        r.dst === '10.244.2.0/24' ? route(r.dst, { gateway: '192.168.77.12' }) : r,
      ),
      routeGets: {
        ...n1.routeGets,
        '192.168.78.14': {
          peer: '192.168.78.14',
          ok: true,
          source: 'json',
          dst: '192.168.78.14',
          type: 'unicast',
          gateway: '192.168.77.1',
          dev: 'eth0',
          prefsrc: null,
          more: null,
        },
      },
    };
    const facts = buildClusterFacts(healthyInput('vxlan', { hosts, directRouting: true, facts: facts4 }));
    // node-1: direct to node-2 (ok), vxlan to node-4 (ok), but node-3 is adjacent yet via vxlan.
    assert.deepEqual(
      problems(routesCheck.evaluate(facts)).filter((p) => p.includes('node-1→')),
      ['fail routes/wrong-next-hop node-1→node-3'],
    );
  });

  it('skips unreachable nodes with the reason instead of guessing', () => {
    const input = healthyInput('host-gw');
    const facts = buildClusterFacts({
      ...input,
      nodes: [
        ...input.nodes!.slice(0, 2),
        {
          node: 'node-3',
          ok: false,
          issue: { node: 'node-3', kind: 'unreachable', message: 'connect ECONNREFUSED 192.168.77.13:22' },
        },
      ],
    });
    const skipped = routesCheck.evaluate(facts).filter((f) => f.severity === 'skipped');
    assert.deepEqual(
      skipped.map((f) => [f.node, f.message]),
      [['node-3', 'no facts from node-3: unreachable: connect ECONNREFUSED 192.168.77.13:22']],
    );
  });

  it('handles 1,000 nodes (~1M routes) and still finds one injected missing route', () => {
    const count = 1000;
    const hosts = Array.from({ length: count }, (_, i) => ({
      name: `node-${i + 1}`,
      ip: `10.${Math.floor((i + 1) / 250)}.${(i + 1) % 250}.10`,
      cidr: `10.${100 + Math.floor(i / 250)}.${i % 250}.0/24`,
    }));
    // Every node's route table is the same shared list (its own podCIDR route is ignored as a peer route).
    const shared = hosts.map((h) => route(h.cidr, { gateway: h.ip }));
    const base = loadProbeFacts('iproute2-6.1.0/host-gw');
    const broken = 'node-500';
    const facts = buildClusterFacts({
      api: {
        namespace: 'kube-flannel',
        nodes: hosts.map((h) => ({
          metadata: {
            name: h.name,
            annotations: {
              'flannel.alpha.coreos.com/public-ip': h.ip,
              'flannel.alpha.coreos.com/backend-type': 'host-gw',
            },
          },
          spec: { podCIDR: h.cidr },
        })),
        configMap: {
          metadata: { name: 'kube-flannel-cfg' },
          data: { 'net-conf.json': '{"Network":"10.96.0.0/12","Backend":{"Type":"host-gw"}}' },
        },
      },
      nodes: hosts.map((h) => ({
        name: h.name,
        facts: {
          ...base,
          name: h.name,
          address: h.ip,
          addresses: [
            {
              ifname: 'eth0',
              family: 'inet',
              local: h.ip,
              prefixlen: 8,
              scope: 'global',
              broadcast: null,
              label: null,
            },
          ],
          routes: h.name === broken ? shared.filter((r) => r.dst !== hosts[9]!.cidr) : shared,
          routeGets: {},
        },
      })),
    });
    const findings = routesCheck.evaluate(facts);
    assert.deepEqual(problems(findings), ['fail routes/missing node-500→node-10']);
    assert.equal(findings.filter((f) => f.severity === 'pass').length, count - 1);
  });
});
