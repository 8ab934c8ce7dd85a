// Reverse-path filtering as linux net/ipv4/fib_frontend.c __fib_validate_source does it: ONE lookup of
// the best route back to the source, accepted when any next hop of that route uses the arrival device
// (fib_info_nh_uses_dev). Backup routes with a higher metric are never consulted; a multipath route
// accepts on each of its devices. test/lab/rp-filter-lab.test.ts proves the same with real traffic.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NodeFacts, Route } from '../../src/facts/node-facts.ts';
import { bestRoutes, rpFilterCheck } from '../../src/checks/rp-filter.ts';
import {
  editNode,
  healthyCluster,
  loadProbeFacts,
  problems,
  route,
} from '../helpers/cluster-facts-fixtures.ts';

/** The recorded multi-NIC node (flannel on eth0, a second NIC eth1), strict on eth0, with these routes. */
const strictNode1 = (edit: (routes: readonly Route[]) => Route[]) => {
  const multi = loadProbeFacts('iproute2-6.1.0/rp-filter-multi-nic');
  const node: NodeFacts = {
    ...multi,
    routes: edit(multi.routes ?? []),
    sysctls: {
      ...multi.sysctls!,
      rpFilter: { ...multi.sysctls!.rpFilter, all: 1, interfaces: { eth0: 1, eth1: 1 } },
    },
  };
  const findings = rpFilterCheck.evaluate(editNode(healthyCluster('host-gw'), 'node-1', () => node));
  return findings.filter((f) => f.node === 'node-1');
};

const backupVia = (dev: string, metric: number, gateway = '10.10.0.1') =>
  route('default', { gateway, dev, metric });

describe('rp_filter asymmetry follows the best route only (fib_frontend.c)', () => {
  it('a backup default route via another NIC with a higher metric is no asymmetry', () => {
    const findings = strictNode1((routes) => [...routes, backupVia('eth1', 200)]);
    assert.deepEqual(problems(findings), ['warn rp-filter/strict-symmetric node-1']);
    assert.ok(
      findings[0]!.evidence.includes(
        'backup default route, not used by the reverse-path lookup: default via 10.10.0.1 dev eth1 metric 200',
      ),
      findings[0]!.evidence.join('\n'),
    );
  });

  it('a better default route via another NIC is: replies to unknown sources leave there', () => {
    const findings = strictNode1((routes) => [
      ...routes.map((r) => (r.dst === 'default' ? { ...r, metric: 300 } : r)),
      backupVia('eth1', 100),
    ]);
    assert.deepEqual(problems(findings), ['fail rp-filter/strict-asymmetric node-1']);
  });

  it('one multipath default route through eth0 and eth1 accepts on both', () => {
    const findings = strictNode1((routes) => [
      ...routes.filter((r) => r.dst !== 'default'),
      route('default', {
        dev: null,
        nexthops: [
          { gateway: '192.168.77.1', dev: 'eth0', weight: 1, flags: [] },
          { gateway: '10.10.0.1', dev: 'eth1', weight: 1, flags: [] },
        ],
      }),
    ]);
    assert.deepEqual(problems(findings), ['warn rp-filter/strict-symmetric node-1']);
  });

  it('a backup route to a peer podCIDR via another NIC is no asymmetry; a better one is', () => {
    const backup = strictNode1((routes) => [
      ...routes,
      route('10.244.2.0/24', { gateway: '10.10.0.12', dev: 'eth1', metric: 500 }),
    ]);
    assert.deepEqual(problems(backup), ['warn rp-filter/strict-symmetric node-1']);
    const better = strictNode1((routes) => [
      route('10.244.2.0/24', { gateway: '10.10.0.12', dev: 'eth1' }),
      ...routes.map((r) => (r.dst === '10.244.2.0/24' ? { ...r, metric: 500 } : r)),
    ]);
    assert.deepEqual(problems(better), ['fail rp-filter/strict-asymmetric node-1']);
    assert.ok(better[0]!.evidence.some((e) => e.startsWith('pod network route via eth1: 10.244.2.0/24')));
  });

  it('bestRoutes: the lowest metric per destination (none counts as 0), the first listed on a tie', () => {
    const a = route('default', { dev: 'eth1', metric: 100 });
    const b = route('default', { dev: 'eth0', metric: 100 });
    const c = route('default', { dev: 'eth2', metric: 50 });
    const d = route('10.244.2.0/24', { dev: 'eth0' });
    assert.deepEqual(bestRoutes([a, b, d]), [a, d]);
    assert.deepEqual(bestRoutes([a, b, c]), [c]);
    assert.deepEqual(
      bestRoutes([a, route('default', { dev: 'eth0' })]).map((r) => r.dev),
      ['eth0'],
    );
  });
});
