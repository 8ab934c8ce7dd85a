// The flannel agent emulator's decisions, on an in-memory dataplane: which peers each backend ignores,
// DirectRouting's choice, host-gw's replace/skip/refusal and routeCheck, and the agent's API side
// (annotations, NetworkUnavailable, subnet.env, config read once, podCIDR outside Network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeDataplane } from '../helpers/fake-dataplane.ts';
import { eventually } from '../helpers/apiserver.ts';
import { HostGwBackend } from '../../src/sim/flannel-agent/backend-host-gw.ts';
import { VxlanBackend } from '../../src/sim/flannel-agent/backend-vxlan.ts';
import type { LeaseEvent } from '../../src/sim/flannel-agent/backend.ts';
import { createKlog, klogLine } from '../../src/sim/flannel-agent/klog.ts';
import type { Lease } from '../../src/sim/flannel-agent/lease.ts';
import { startSimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';
import type { SimulatedNode } from '../../src/sim/flannel-agent/seed.ts';
import { startFlannelAgents } from '../../src/sim/flannel-agent/agent.ts';
import { flannelClusterSeed } from '../../src/sim/flannel-agent/seed.ts';
import { startApiServer } from '../../src/sim/apiserver/index.ts';
import { ANNOTATIONS, CONFIGMAP_NAME, FLANNEL_NAMESPACE, NET_CONF_KEY } from '../../src/flannel/names.ts';

const setup = (o: { address?: string; router?: string } = {}) => {
  const dataplane = new FakeDataplane({
    address: o.address ?? '192.168.77.11',
    subnet: '192.168.77.0/24',
    ...(o.router ? { router: o.router } : {}),
  });
  const lines: string[] = [];
  const log = createKlog((l) => lines.push(l));
  return { dataplane, lines, ctx: { dataplane, log, ext: dataplane.ext, publicIp: dataplane.ext.address } };
};

const lease = (n: number, backendType: string, publicIp = `192.168.77.${10 + n}`): Lease => ({
  node: `node-${n}`,
  subnet: `10.244.${n}.0/24`,
  publicIp,
  backendType,
  backendData: backendType === 'vxlan' ? JSON.stringify({ VNI: 1, VtepMAC: `0e:00:00:00:00:0${n}` }) : 'null',
});
const added = (l: Lease): LeaseEvent => ({ type: 'added', lease: l });

test('klog lines carry flannel-like headers', () => {
  assert.equal(
    klogLine('E', new Date('2026-11-26T12:00:00.123Z'), 'route_network.go:218', 'boom'),
    'E1126 12:00:00.123000       1 route_network.go:218] boom',
  );
});

test('vxlan: peers of another type are ignored and their existing entries stay', async () => {
  const { dataplane, lines, ctx } = setup();
  const vxlan = new VxlanBackend(ctx, { Type: 'vxlan' });
  await vxlan.register(undefined);
  await vxlan.configure('10.244.1.0/24');
  await vxlan.handle([added(lease(2, 'vxlan'))]);
  const before = JSON.stringify(dataplane.routes);
  dataplane.calls.length = 0;
  await vxlan.handle([added(lease(2, 'host-gw'))]);
  assert.deepEqual(dataplane.calls, []);
  assert.equal(JSON.stringify(dataplane.routes), before);
  assert.ok(
    lines.some((l) => l.endsWith('ignoring non-vxlan v4Subnet(10.244.2.0/24) v6Subnet(<nil>): type=host-gw')),
  );
  assert.equal(dataplane.neighbours.get('10.244.2.0'), '0e:00:00:00:00:02');
  assert.equal(dataplane.fdb.get('0e:00:00:00:00:02'), '192.168.77.12');
});

test('vxlan DirectRouting: on-link peers get a plain route, the others ARP + FDB + onlink route', async () => {
  const { dataplane, ctx } = setup({ router: '192.168.77.253' });
  const vxlan = new VxlanBackend(ctx, { Type: 'vxlan', DirectRouting: true });
  await vxlan.register(undefined);
  await vxlan.handle([added(lease(2, 'vxlan')), added(lease(4, 'vxlan', '192.168.78.14'))]);
  assert.deepEqual(dataplane.calls.slice(1), [
    'routeReplace 10.244.2.0/24 via 192.168.77.12',
    'neighReplace 10.244.4.0 0e:00:00:00:00:04',
    'fdbReplace 0e:00:00:00:00:04 192.168.78.14',
    'routeReplace 10.244.4.0/24 via 10.244.4.0 dev flannel.1 onlink',
  ]);
  assert.equal(dataplane.fdb.has('0e:00:00:00:00:02'), false);
});

test('vxlan reuses a compatible flannel.1 without touching its MTU and announces its MAC', async () => {
  const { dataplane, ctx } = setup();
  const first = await new VxlanBackend(ctx, { Type: 'vxlan' }).register(undefined);
  assert.equal(first.backendData, '{"VNI":1,"VtepMAC":"0e:00:00:00:00:01"}');
  const again = new VxlanBackend(ctx, { Type: 'vxlan', MTU: 1400 });
  const attrs = await again.register(first.backendData);
  assert.equal(dataplane.vxlan?.mtu, 1450, 'the existing device keeps its MTU');
  assert.equal(again.mtu(), 1350, 'FLANNEL_MTU follows Backend.MTU');
  assert.equal(attrs.backendData, first.backendData);
  assert.equal(dataplane.calls.filter((c) => c.startsWith('ensureVxlan create')).length, 1);
});

test('host-gw: replaces a vxlan route, skips an equal one, logs a refused one and ignores vxlan peers', async () => {
  const { dataplane, lines, ctx } = setup();
  dataplane.vxlan = {
    name: 'flannel.1',
    index: 10,
    mac: '0e:00:00:00:00:01',
    mtu: 1450,
    kind: 'vxlan',
    vni: 1,
  };
  dataplane.routes.push({
    dst: '10.244.2.0/24',
    gw: '10.244.2.0',
    dev: 'flannel.1',
    linkIndex: 10,
    onlink: true,
    table: 254,
  });
  const hostGw = new HostGwBackend(ctx);
  await hostGw.register();
  await hostGw.handle([
    added(lease(2, 'host-gw')),
    added(lease(3, 'vxlan')),
    added(lease(4, 'host-gw', '192.168.78.14')),
  ]);
  assert.ok(
    lines.some((l) =>
      l.endsWith(
        'Replacing existing route to {Ifindex: 10 Dst: 10.244.2.0/24 Src: <nil> Gw: 10.244.2.0 Flags: [onlink] Table: 254 Realm: 0} with {Ifindex: 2 Dst: 10.244.2.0/24 Src: <nil> Gw: 192.168.77.12 Flags: [] Table: 0 Realm: 0}',
      ),
    ),
  );
  assert.ok(lines.some((l) => l.startsWith('W') && l.endsWith('Ignoring non-host-gw subnet: type=vxlan')));
  assert.ok(
    lines.some(
      (l) =>
        l.startsWith('E') &&
        l.endsWith(
          'Error adding route to {Ifindex: 2 Dst: 10.244.4.0/24 Src: <nil> Gw: 192.168.78.14 Flags: [] Table: 0 Realm: 0}: network is unreachable',
        ),
    ),
  );
  assert.deepEqual(
    dataplane.routes.map((r) => `${r.dst} via ${r.gw} dev ${r.dev}`),
    ['10.244.2.0/24 via 192.168.77.12 dev eth0'],
  );
  dataplane.calls.length = 0;
  await hostGw.handle([added(lease(2, 'host-gw'))]);
  assert.ok(lines.at(-1)!.includes('Route to {Ifindex: 2 Dst: 10.244.2.0/24'));
  assert.ok(lines.at(-1)!.endsWith('already exists, skipping.'));
  assert.ok(!dataplane.calls.some((c) => c.startsWith('routeAdd')));
});

test('host-gw routeCheck re-adds a deleted route and keeps retrying a refused one silently', async () => {
  const { dataplane, lines, ctx } = setup();
  const hostGw = new HostGwBackend(ctx);
  await hostGw.handle([added(lease(2, 'host-gw')), added(lease(4, 'host-gw', '192.168.78.14'))]);
  dataplane.routes = [];
  const errorsBefore = lines.filter((l) => l.startsWith('E')).length;
  await hostGw.reconcile();
  assert.deepEqual(
    dataplane.routes.map((r) => r.dst),
    ['10.244.2.0/24'],
  );
  assert.ok(lines.some((l) => l.endsWith('Route recovered 10.244.2.0/24 : 192.168.77.12')));
  assert.equal(lines.filter((l) => l.startsWith('E')).length, errorsBefore, 'errno failures are not logged');
  // Once the peer's network becomes connected, the remembered route comes back.
  dataplane.connected.push('192.168.78.0/24');
  await hostGw.reconcile();
  assert.deepEqual(
    dataplane.routes.map((r) => r.dst),
    ['10.244.2.0/24', '10.244.4.0/24'],
  );
});

const fakeNodes = (count: number, podBase = '10.244'): SimulatedNode[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `node-${i + 1}`,
    address: `192.168.77.${11 + i}`,
    podCidr: `${podBase}.${i + 1}.0/24`,
    dataplane: new FakeDataplane({ address: `192.168.77.${11 + i}`, subnet: '192.168.77.0/24' }),
  }));

test('agents: annotations through nodes/status, FlannelIsUp, subnet.env, routes; config read at start only', async (t) => {
  const nodes = fakeNodes(3);
  const sim = await startSimulatedFlannel({ nodes, backend: 'host-gw', routeCheckIntervalMs: 50 });
  t.after(() => sim.close());
  for (const n of nodes) {
    const node = sim.api.get('nodes', undefined, n.name)!;
    const a = node.metadata!.annotations!;
    assert.equal(a[ANNOTATIONS.backendType], 'host-gw');
    assert.equal(a[ANNOTATIONS.backendData], 'null');
    assert.equal(a[ANNOTATIONS.publicIp], n.address);
    assert.equal(a[ANNOTATIONS.kubeSubnetManager], 'true');
    const cond = (
      node.status as { conditions: { type: string; status: string; reason?: string }[] }
    ).conditions.find((c) => c.type === 'NetworkUnavailable');
    assert.deepEqual([cond?.status, cond?.reason], ['False', 'FlannelIsUp']);
    const fake = n.dataplane as FakeDataplane;
    assert.equal(
      fake.subnetEnv,
      `FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=${n.podCidr.replace('.0/24', '.1/24')}\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n`,
    );
    assert.deepEqual(
      fake.routes.map((r) => r.dst).sort(),
      nodes.filter((p) => p !== n).map((p) => p.podCidr),
    );
  }
  assert.ok(
    sim.api.requests.writes().some((r) => r.method === 'PATCH' && r.path === '/api/v1/nodes/node-1/status'),
  );
  // A ConfigMap edit reaches no running agent: the next peer event is still handled as host-gw.
  const edit = await fetch(
    `${sim.api.url}/api/v1/namespaces/${FLANNEL_NAMESPACE}/configmaps/${CONFIGMAP_NAME}`,
    {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${sim.api.token}`, 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({
        data: { [NET_CONF_KEY]: '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}' },
      }),
    },
  );
  assert.equal(edit.status, 200);
  // A node deleted: its route goes, as on "Subnet removed".
  sim.api.removeNode('node-3');
  const n1 = nodes[0]!.dataplane as FakeDataplane;
  await eventually(() => n1.routes.length === 1, 'route to node-3 removed');
  assert.equal(n1.vxlan, undefined, 'no vxlan device appeared');
  assert.match(n1.subnetEnv ?? '', /FLANNEL_MTU=1500/);
  // Restarting node-1's pod is what applies the edit; its host-gw peer then ignores it.
  const pod = sim.api
    .list('pods', FLANNEL_NAMESPACE, 'app=flannel')
    .find((p) => (p.spec as { nodeName: string }).nodeName === 'node-1')!;
  const del = await fetch(
    `${sim.api.url}/api/v1/namespaces/${FLANNEL_NAMESPACE}/pods/${pod.metadata!.name!}`,
    {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${sim.api.token}` },
    },
  );
  assert.equal(del.status, 200);
  await eventually(
    () =>
      sim.api.get('nodes', undefined, 'node-1')!.metadata!.annotations![ANNOTATIONS.backendType] === 'vxlan',
    'node-1 to announce vxlan',
  );
  await eventually(() => n1.subnetEnv?.includes('FLANNEL_MTU=1450'), 'node-1 subnet.env on vxlan');
  assert.equal(await n1.vxlanLink().then((l) => l?.mtu), 1450);
  const n2 = nodes[1]!.dataplane as FakeDataplane;
  await sim.agents.idle();
  assert.ok(
    n2.routes.some((r) => r.dst === '10.244.1.0/24' && r.gw === '192.168.77.11'),
    'node-2 keeps its route',
  );
});

test('a podCIDR outside Network: flanneld logs the lease error and the pod never becomes Ready', async (t) => {
  const nodes = fakeNodes(1, '10.245');
  const seed = flannelClusterSeed(nodes, { backend: 'host-gw' });
  const api = await startApiServer({
    seed: { nodes: seed.nodes, objects: seed.objects!.filter((o) => o.kind !== 'DaemonSet') },
    readyDelayMs: 10,
  });
  t.after(() => api.close());
  const agents = startFlannelAgents({ api, dataplaneFor: () => nodes[0]!.dataplane });
  t.after(() => agents.stop());
  api.create(seed.objects!.find((o) => o.kind === 'DaemonSet')!);
  const pod = await eventually(() => {
    const p = api.list('pods', FLANNEL_NAMESPACE, 'app=flannel')[0];
    const s = (
      p?.status as { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } | undefined
    )?.containerStatuses?.[0]?.state?.waiting?.reason;
    return s === 'CrashLoopBackOff' ? p : undefined;
  }, 'the flannel pod to crash');
  const res = await fetch(
    `${api.url}/api/v1/namespaces/${FLANNEL_NAMESPACE}/pods/${pod.metadata!.name!}/log`,
    {
      headers: { Authorization: `Bearer ${api.token}` },
    },
  );
  assert.match(
    await res.text(),
    /E\d{4} [\d:.]+ +1 main\.go:\d+\] Error registering network: failed to acquire lease: subnet "10\.244\.0\.0\/16" specified in the flannel net config doesn't contain "10\.245\.1\.0\/24" PodCIDR of the "node-1" node/,
  );
  assert.equal((nodes[0]!.dataplane as FakeDataplane).subnetEnv, undefined);
});
