// Kernel semantics of the virtual node that flannel depends on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createVirtualNode } from '../../src/sim/virtual-node/create-node.ts';
import type { RouteGetAnswer, VirtualNode } from '../../src/sim/virtual-node/model.ts';

const node = (backend?: 'host-gw' | 'vxlan'): VirtualNode =>
  createVirtualNode({
    name: 'node-1',
    address: '192.168.77.11',
    podCIDR: '10.244.1.0/24',
    ...(backend ? { backend } : {}),
  });

const get = (n: VirtualNode, dst: string): RouteGetAnswer => {
  const r = n.routeGet(dst);
  assert.ok('dev' in r, `route get ${dst}: ${JSON.stringify(r)}`);
  return r;
};

test('the factory builds eth0, cni0 with the pod gateway, connected routes and a default route', () => {
  const n = node();
  assert.deepEqual(
    n.links.map((l) => [l.name, l.kind, l.mtu]),
    [
      ['lo', 'loopback', 65536],
      ['eth0', 'veth', 1500],
      ['cni0', 'bridge', 1500],
      ['vethpod1', 'veth', 1500],
    ],
  );
  assert.deepEqual(
    n.routes
      .filter((r) => r.family === 'inet')
      .map((r) => [r.dst, r.gateway, r.dev, r.protocol, r.scope, r.prefsrc]),
    [
      ['192.168.77.0/24', null, 'eth0', 'kernel', 'link', '192.168.77.11'],
      ['10.244.1.0/24', null, 'cni0', 'kernel', 'link', '10.244.1.1'],
      ['default', '192.168.77.1', 'eth0', 'boot', 'global', null],
    ],
  );
  assert.equal(n.link('cni0')?.mac, '0a:58:0a:f4:01:01');
});

test('a gateway off every connected subnet is refused unless onlink', () => {
  const n = node('vxlan');
  assert.deepEqual(n.routeAdd({ dst: '10.244.2.0/24', gateway: '192.168.78.12', dev: 'eth0' }), {
    ok: false,
    message: 'Error: Nexthop has invalid gateway.',
    code: 2,
  });
  assert.equal(
    n.routeAdd({ dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'flannel.1', onlink: true }).ok,
    true,
  );
  // on-link check is per device: the gateway is on eth0's subnet, not cni0's
  assert.equal(n.routeAdd({ dst: '10.244.3.0/24', gateway: '192.168.77.13', dev: 'cni0' }).ok, false);
  assert.equal(n.routeAdd({ dst: '10.244.3.0/24', gateway: '192.168.77.13', dev: 'eth0' }).ok, true);
  assert.deepEqual(n.routeAdd({ dst: '10.244.3.0/24', gateway: '192.168.77.13', dev: 'eth0' }), {
    ok: false,
    message: 'RTNETLINK answers: File exists',
    code: 2,
  });
});

test('replace overwrites the route for the prefix; del removes it or reports No such process', () => {
  const n = node('vxlan');
  n.routeAdd({ dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'flannel.1', onlink: true });
  assert.equal(n.routeReplace({ dst: '10.244.2.0/24', gateway: '192.168.77.12', dev: 'eth0' }).ok, true);
  assert.deepEqual(
    n.routes.filter((r) => r.dst === '10.244.2.0/24').map((r) => [r.gateway, r.dev, r.onlink]),
    [['192.168.77.12', 'eth0', false]],
  );
  assert.equal(n.routeDel({ dst: '10.244.2.0/24' }).ok, true);
  assert.deepEqual(n.routeDel({ dst: '10.244.2.0/24' }), {
    ok: false,
    message: 'RTNETLINK answers: No such process',
    code: 2,
  });
});

test('route get: longest prefix wins, gateway only when routed, local addresses go via lo', () => {
  const n = node();
  n.routeAdd({ dst: '10.244.0.0/16', gateway: '192.168.77.1', dev: 'eth0' });
  n.routeAdd({ dst: '10.244.2.0/24', gateway: '192.168.77.12', dev: 'eth0', mtu: 1400 });
  assert.deepEqual(get(n, '10.244.2.9'), {
    type: 'unicast',
    dst: '10.244.2.9',
    gateway: '192.168.77.12',
    dev: 'eth0',
    prefsrc: '192.168.77.11',
    mtu: 1400,
  });
  assert.equal(get(n, '10.244.9.9').gateway, '192.168.77.1');
  assert.deepEqual([get(n, '192.168.77.12').gateway, get(n, '192.168.77.12').dev], [null, 'eth0']);
  assert.deepEqual([get(n, '10.244.1.5').dev, get(n, '10.244.1.5').prefsrc], ['cni0', '10.244.1.1']);
  assert.equal(get(n, '192.168.77.11').type, 'local');
  n.routeDel({ dst: 'default' });
  assert.deepEqual(n.routeGet('8.8.8.8'), {
    ok: false,
    message: 'RTNETLINK answers: Network is unreachable',
    code: 2,
  });
});

test('deleting a link removes its addresses, routes, neighbours, fdb entries and rp_filter', () => {
  const n = node('vxlan');
  n.routeAdd({ dst: '10.244.2.0/24', gateway: '10.244.2.0', dev: 'flannel.1', onlink: true });
  n.neighReplace({ dst: '10.244.2.0', dev: 'flannel.1', lladdr: '0e:00:00:00:00:12', state: 'PERMANENT' });
  n.fdbAppend({ mac: '0e:00:00:00:00:12', dev: 'flannel.1', dst: '192.168.77.12' });
  n.setSysctl('net/ipv4/conf/flannel.1/rp_filter', '1');
  assert.equal(n.linkDel('flannel.1').ok, true);
  assert.equal(n.link('flannel.1'), undefined);
  assert.equal(
    n.addresses.some((a) => a.dev === 'flannel.1'),
    false,
  );
  assert.equal(
    n.routes.some((r) => r.dev === 'flannel.1'),
    false,
  );
  assert.deepEqual([n.neighbours, n.fdb], [[], []]);
  assert.equal(n.sysctls.has('net/ipv4/conf/flannel.1/rp_filter'), false);
  assert.equal(get(n, '10.244.2.5').gateway, '192.168.77.1', 'traffic falls back to the default route');
  assert.deepEqual(n.linkDel('flannel.1'), { ok: false, message: 'Cannot find device "flannel.1"', code: 1 });
});

test('a bridge without ports has no carrier: its route is linkdown and not used', () => {
  // Its pods went; the bridge plugin never deletes cni0 (bridge.go cmdDel).
  const n = createVirtualNode({
    name: 'n',
    address: '192.168.77.11',
    podCIDR: '10.244.1.0/24',
    pods: 0,
    cni0: true,
  });
  assert.equal(n.carrier(n.link('cni0')!), false);
  assert.equal(get(n, '10.244.1.5').dev, 'eth0');
});

test('a node no pod ever ran on has no cni0, and pod addresses route off-node', () => {
  const n = createVirtualNode({ name: 'n', address: '192.168.77.11', podCIDR: '10.244.1.0/24', pods: 0 });
  assert.equal(n.link('cni0'), undefined);
  assert.equal(n.podCIDR, '10.244.1.0/24');
});

test('new links copy rp_filter from conf/default, like the kernel', () => {
  const n = createVirtualNode({ name: 'n', address: '192.168.77.11', podCIDR: '10.244.1.0/24', rpFilter: 2 });
  assert.equal(n.sysctls.get('net/ipv4/conf/eth0/rp_filter'), '2');
  n.setSysctl('net/ipv4/conf/default/rp_filter', '1');
  n.addLink({ name: 'dummy0', kind: 'dummy' });
  assert.equal(n.sysctls.get('net/ipv4/conf/dummy0/rp_filter'), '1');
});
