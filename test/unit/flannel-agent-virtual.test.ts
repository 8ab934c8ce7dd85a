// The flannel agent emulator on in-process virtual nodes: the vxlan state flanneld programs, then a
// ConfigMap edit plus a rollout restart that converges on host-gw, leaves flannel.1 behind and cannot
// route to a node on another subnet (the model's "Nexthop has invalid gateway").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/apiserver.ts';
import { createVirtualNode } from '../../src/sim/virtual-node/create-node.ts';
import type { VirtualNode } from '../../src/sim/virtual-node/model.ts';
import { startSimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';
import { restartPatch } from '../../src/kube/rollout.ts';
import {
  ANNOTATIONS,
  CONFIGMAP_NAME,
  DAEMONSET_NAME,
  NET_CONF_KEY,
  SUBNET_ENV_PATH,
} from '../../src/flannel/names.ts';

const makeNodes = (): VirtualNode[] => [
  ...[1, 2, 3].map((n) =>
    createVirtualNode({ name: `node-${n}`, address: `192.168.77.${10 + n}`, podCIDR: `10.244.${n}.0/24` }),
  ),
  createVirtualNode({ name: 'node-4', address: '192.168.78.14', podCIDR: '10.244.4.0/24' }),
];

const route = (node: VirtualNode, dst: string) => node.routes.find((r) => r.dst === dst);

test('virtual nodes: vxlan state, then a rollout restart to host-gw', async (t) => {
  const nodes = makeNodes();
  const sim = await startSimulatedFlannel({
    nodes,
    backend: 'vxlan',
    readyDelayMs: 5,
    routeCheckIntervalMs: 50,
  });
  t.after(() => sim.close());
  const [n1, n2, , n4] = nodes as [VirtualNode, VirtualNode, VirtualNode, VirtualNode];
  const mac2 = n2.link('flannel.1')!.mac;
  assert.equal(
    sim.api.get('nodes', undefined, 'node-2')!.metadata!.annotations![ANNOTATIONS.backendData],
    JSON.stringify({ VNI: 1, VtepMAC: mac2 }),
  );
  assert.deepEqual(
    [
      route(n1, '10.244.2.0/24')?.gateway,
      route(n1, '10.244.2.0/24')?.dev,
      route(n1, '10.244.2.0/24')?.onlink,
    ],
    ['10.244.2.0', 'flannel.1', true],
  );
  assert.equal(n1.neighbours.find((x) => x.dst === '10.244.2.0')?.lladdr, mac2);
  assert.equal(n1.fdb.find((f) => f.mac === mac2)?.dst, '192.168.77.12');
  assert.equal(route(n1, '10.244.4.0/24')?.dev, 'flannel.1', 'vxlan reaches the node behind a router');
  assert.match(n1.files.get(SUBNET_ENV_PATH)!, /FLANNEL_MTU=1450/);
  assert.equal(n1.link('flannel.1')!.mtu, 1450);

  const patch = async (path: string, body: unknown, type: string) => {
    const res = await fetch(`${sim.api.url}${path}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${sim.api.token}`, 'Content-Type': type },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200);
  };
  await patch(
    `/api/v1/namespaces/${sim.namespace}/configmaps/${CONFIGMAP_NAME}`,
    { data: { [NET_CONF_KEY]: '{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}' } },
    'application/merge-patch+json',
  );
  await patch(
    `/apis/apps/v1/namespaces/${sim.namespace}/daemonsets/${DAEMONSET_NAME}`,
    restartPatch(new Date()),
    'application/strategic-merge-patch+json',
  );
  await eventually(
    () =>
      nodes.every(
        (n) =>
          sim.api.get('nodes', undefined, n.hostname)!.metadata!.annotations![ANNOTATIONS.backendType] ===
          'host-gw',
      ) && nodes.every((n) => n.files.get(SUBNET_ENV_PATH)?.includes('FLANNEL_MTU=1500')),
    'every node on host-gw',
  );
  await eventually(
    () => route(n1, '10.244.2.0/24')?.gateway === '192.168.77.12',
    'node-1 route to node-2 via eth0',
  );
  // Peers learn about each other through a watch over HTTP: an event can still be in flight when the
  // agents look idle, so wait for the state rather than for idleness.
  await eventually(
    () =>
      route(n2, '10.244.1.0/24')?.gateway === '192.168.77.11' &&
      route(n1, '10.244.4.0/24') === undefined &&
      route(n4, '10.244.1.0/24') === undefined,
    'node-2 routes to node-1 via eth0; node-1 and node-4 dropped their stale routes to each other',
  );
  await sim.agents.idle();
  assert.equal(route(n1, '10.244.2.0/24')?.dev, 'eth0');
  assert.equal(route(n2, '10.244.1.0/24')?.gateway, '192.168.77.11');
  assert.ok(n1.link('flannel.1'), 'flannel.1 stays');
  assert.equal(
    route(n1, '10.244.4.0/24'),
    undefined,
    'the stale vxlan route was replaced, the new one refused',
  );
  assert.equal(route(n4, '10.244.1.0/24'), undefined);
});
