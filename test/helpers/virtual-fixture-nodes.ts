// Virtual nodes configured like the namespaces the iproute2-6.1.0 probe fixtures were recorded in
// (scripts/record-probe-fixtures.ts), so the virtual output can be checked against the real one.
import { createBareNode, createVirtualNode } from '../../src/sim/virtual-node/create-node.ts';
import type { VirtualNode } from '../../src/sim/virtual-node/model.ts';
import { rpFilterKey } from '../../src/sim/virtual-node/model.ts';
import type { ProbeScriptOptions } from '../../src/facts/probe-script.ts';
import { FIXTURE_NONCE } from './probe-fixtures.ts';

export const FIXTURE_PEERS = ['192.168.77.12', '192.168.77.13', '192.168.78.14', '2001:db8::14'];

/** The recording host's sysctls and kernel (they are values of that machine, not of the model). */
const recordingHost = (node: VirtualNode): VirtualNode => {
  node.kernel = '6.18.44-fc-v595';
  node.hostname = 'fcf-node-1';
  for (const k of ['rmem_max', 'wmem_max']) node.setSysctl(`net/core/${k}`, '4194304');
  node.setSysctl('net/ipv4/tcp_congestion_control', 'bbr');
  node.setSysctl('net/ipv4/tcp_available_congestion_control', 'reno bbr cubic');
  return node;
};

const must = (r: { ok: boolean; message?: string }): void => {
  if (!r.ok) throw new Error(r.message);
};

/** fe80::/64 routes in the order the kernel added them during the recording. */
const orderRoute6 = (node: VirtualNode, devs: readonly string[]): void => {
  const v6 = node.routes.filter((r) => r.family === 'inet6');
  const rest = node.routes.filter((r) => r.family !== 'inet6');
  v6.sort((a, b) => devs.indexOf(a.dev ?? '') - devs.indexOf(b.dev ?? ''));
  node.routes.splice(0, node.routes.length, ...rest, ...v6);
};

const flannelNode = (backend: 'host-gw' | 'vxlan'): VirtualNode => {
  const node = createVirtualNode({
    name: 'fcf-node-1',
    address: '192.168.77.11',
    podCIDR: '10.244.1.0/24',
    backend,
    macs: { eth0: '02:fc:77:00:00:11', vethpod1: '0a:fc:01:00:00:02', 'flannel.1': '0e:fc:00:00:00:11' },
  });
  node.link('eth0')!.peerIndex = backend === 'vxlan' ? 4 : 3;
  return recordingHost(node);
};

export const fixtureNodes: Readonly<
  Record<string, () => { node: VirtualNode; options: ProbeScriptOptions }>
> = {
  'host-gw': () => {
    const node = flannelNode('host-gw');
    must(node.routeAdd({ dst: '10.244.2.0/24', gateway: '192.168.77.12', dev: 'eth0' }));
    must(node.routeAdd({ dst: '10.244.3.0/24', gateway: '192.168.77.13', dev: 'eth0' }));
    orderRoute6(node, ['eth0', 'vethpod1', 'cni0']);
    const ip = node.snmp.get('Ip')!;
    ip.set('OutRequests', 2).set('OutTransmits', 2);
    return { node, options: { nonce: FIXTURE_NONCE, peers: FIXTURE_PEERS } };
  },
  vxlan: () => {
    const node = flannelNode('vxlan');
    for (const n of [2, 3]) {
      must(
        node.routeAdd({ dst: `10.244.${n}.0/24`, gateway: `10.244.${n}.0`, dev: 'flannel.1', onlink: true }),
      );
      must(
        node.neighReplace({
          dst: `10.244.${n}.0`,
          dev: 'flannel.1',
          lladdr: `0e:fc:00:00:00:1${n}`,
          state: 'PERMANENT',
        }),
      );
      must(node.fdbAppend({ mac: `0e:fc:00:00:00:1${n}`, dev: 'flannel.1', dst: `192.168.77.1${n}` }));
    }
    orderRoute6(node, ['eth0', 'vethpod1', 'cni0', 'flannel.1']);
    node.snmp.get('Ip')!.set('OutRequests', 1).set('OutTransmits', 1);
    return { node, options: { nonce: FIXTURE_NONCE, peers: FIXTURE_PEERS } };
  },
  'rp-filter-multi-nic': () => {
    const node = recordingHost(createBareNode('fcf-node-1'));
    node.addLink({ name: 'eth0', kind: 'veth', mac: '02:fc:77:00:00:11', peerIndex: 5, peerNetnsId: 0 });
    node.addLink({ name: 'eth1', kind: 'veth', mac: '02:fc:10:00:00:11', peerIndex: 3, peerNetnsId: 1 });
    must(node.addrAdd('eth0', '192.168.77.11/24'));
    must(node.addrAdd('eth1', '10.10.0.11/24'));
    must(node.routeAdd({ dst: 'default', gateway: '192.168.77.1', dev: 'eth0' }));
    must(node.routeAdd({ dst: '10.244.2.0/24', gateway: '192.168.77.12', dev: 'eth0', mtu: 1400 }));
    node.setSysctl(rpFilterKey('eth0'), '2');
    node.setSysctl(rpFilterKey('eth1'), '1');
    node.forwardPolicy = 'DROP';
    return {
      node,
      options: {
        nonce: FIXTURE_NONCE,
        peers: FIXTURE_PEERS,
        subnetEnvPath: '/tmp/fcf-record/rp/subnet.env',
        cniConfDir: '/tmp/fcf-record/rp/no-cni',
      },
    };
  },
};
