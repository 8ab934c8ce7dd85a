// The flannel agent emulator against real kernels: a 3-node lab plus one node behind a router, seeded on
// vxlan, pods talk through kernel VXLAN; a ConfigMap edit alone changes nothing; a rollout restart moves
// nodes to host-gw one at a time (mixed window), leaves flannel.1 behind, and the remote node is cut off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labRequirement } from '../helpers/requirements.ts';
import { createLab } from '../../src/lab/lab.ts';
import type { Lab, LabNode } from '../../src/lab/types.ts';
import { restartPatch } from '../../src/kube/rollout.ts';
import { ANNOTATIONS, CONFIGMAP_NAME, DAEMONSET_NAME, NET_CONF_KEY } from '../../src/flannel/names.ts';
import { flannelPodStates, startSimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';
import type { SimulatedFlannel } from '../../src/sim/flannel-agent/seed.ts';

const skip = labRequirement();
let lab: Lab;
let sim: SimulatedFlannel;
let main: LabNode[];
let remote: LabNode;

before(async () => {
  if (skip) return;
  lab = await createLab({ nodes: 3, remoteNodes: 1, ssh: false });
  main = lab.nodes.filter((n) => !n.remote);
  remote = lab.nodes.find((n) => n.remote)!;
  // A readiness delay keeps each node's step of the rollout observable; routeCheck runs often.
  sim = await startSimulatedFlannel({ lab, backend: 'vxlan', readyDelayMs: 600, routeCheckIntervalMs: 300 });
  await lab.startPods(1);
});
after(async () => {
  await sim?.close();
  await lab?.destroy();
});

const ping = async (from: LabNode, to: LabNode): Promise<boolean> =>
  (await lab.tryExec(from.pods[0]!.netns, ['ping', '-c', '1', '-W', '1', to.pods[0]!.address])).code === 0;

const subnetEnv = (node: LabNode): string => readFileSync(join(node.runDir, 'subnet.env'), 'utf8');

const routes = async (
  node: LabNode,
): Promise<{ dst: string; gateway?: string; dev?: string; flags?: string[] }[]> =>
  JSON.parse((await lab.exec(node.netns, ['ip', '-j', '-4', 'route', 'show'])).stdout) as {
    dst: string;
    gateway?: string;
    dev?: string;
    flags?: string[];
  }[];

const flannelMac = async (node: LabNode): Promise<string | undefined> => {
  const r = await lab.tryExec(node.netns, ['ip', '-j', 'link', 'show', 'dev', 'flannel.1']);
  return r.code === 0 ? (JSON.parse(r.stdout) as { address: string }[])[0]?.address : undefined;
};

const annotation = (node: string, key: string): string | undefined =>
  sim.api.get('nodes', undefined, node)?.metadata?.annotations?.[key];

const request = async (method: string, path: string, body: unknown, type: string): Promise<void> => {
  const res = await fetch(`${sim.api.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${sim.api.token}`, 'Content-Type': type },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.text());
};

const setBackendInConfigMap = (type: string): Promise<void> =>
  request(
    'PATCH',
    `/api/v1/namespaces/${sim.namespace}/configmaps/${CONFIGMAP_NAME}`,
    { data: { [NET_CONF_KEY]: JSON.stringify({ Network: '10.244.0.0/16', Backend: { Type: type } }) } },
    'application/merge-patch+json',
  );

const podLog = async (node: string): Promise<string> => {
  const pod = sim.api
    .list('pods', sim.namespace, 'app=flannel')
    .find((p) => (p.spec as { nodeName?: string }).nodeName === node && !p.metadata?.deletionTimestamp)!;
  const res = await fetch(
    `${sim.api.url}/api/v1/namespaces/${sim.namespace}/pods/${pod.metadata!.name!}/log`,
    { headers: { Authorization: `Bearer ${sim.api.token}` } },
  );
  return res.text();
};

test('vxlan: pods on every node reach each other through kernel VXLAN', { skip }, async () => {
  for (const from of lab.nodes)
    for (const to of lab.nodes)
      if (from !== to) assert.ok(await ping(from, to), `${from.name} -> ${to.name}`);
  for (const node of lab.nodes) {
    assert.match(
      subnetEnv(node),
      /^FLANNEL_NETWORK=10\.244\.0\.0\/16\nFLANNEL_SUBNET=10\.244\.\d+\.1\/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n$/,
    );
    assert.equal(annotation(node.name, ANNOTATIONS.backendType), 'vxlan');
    const mac = await flannelMac(node);
    assert.equal(annotation(node.name, ANNOTATIONS.backendData), JSON.stringify({ VNI: 1, VtepMAC: mac }));
    assert.equal(annotation(node.name, ANNOTATIONS.publicIp), node.address);
    const peer = lab.nodes.find((n) => n !== node)!;
    const r = (await routes(node)).find((x) => x.dst === peer.podCidr);
    assert.deepEqual(
      [r?.gateway, r?.dev, r?.flags],
      [peer.podCidr.replace('/24', ''), 'flannel.1', ['onlink']],
    );
  }
});

test('a ConfigMap edit without a pod restart changes nothing on the nodes', { skip }, async () => {
  await setBackendInConfigMap('host-gw');
  // Node events still flow (a peer's annotations change), and routeCheck would run if it were host-gw.
  await request(
    'PATCH',
    `/api/v1/nodes/${main[1]!.name}`,
    { metadata: { annotations: { 'example.com/touched': 'yes' } } },
    'application/strategic-merge-patch+json',
  );
  await new Promise((r) => setTimeout(r, 700));
  await sim.agents.idle();
  for (const node of lab.nodes) {
    assert.match(subnetEnv(node), /FLANNEL_MTU=1450/);
    assert.equal(annotation(node.name, ANNOTATIONS.backendType), 'vxlan');
    assert.equal((await routes(node)).filter((r) => r.dev === 'flannel.1').length, lab.nodes.length - 1);
  }
  assert.ok(await ping(main[0]!, main[2]!));
});

test(
  'rollout restart to host-gw: a mixed window, converged routes, stale flannel.1, remote node cut off',
  { skip },
  async () => {
    await setBackendInConfigMap('host-gw');
    await request(
      'PATCH',
      `/apis/apps/v1/namespaces/${sim.namespace}/daemonsets/${DAEMONSET_NAME}`,
      restartPatch(new Date()),
      'application/strategic-merge-patch+json',
    );
    const types = () => lab.nodes.map((n) => annotation(n.name, ANNOTATIONS.backendType));
    let mixedPings: boolean | undefined;
    const deadline = Date.now() + 40_000;
    for (;;) {
      const now = types();
      const hostGw = lab.nodes.filter((_, i) => now[i] === 'host-gw');
      const vxlan = main.filter((n) => annotation(n.name, ANNOTATIONS.backendType) === 'vxlan');
      // In the mixed window a host-gw node and a vxlan node still talk (stale vxlan state on both).
      if (mixedPings === undefined && hostGw.length > 0 && vxlan.length > 0) {
        const a = hostGw.find((n) => !n.remote);
        if (a) mixedPings = (await ping(a, vxlan[0]!)) && (await ping(vxlan[0]!, a));
      }
      const states = flannelPodStates(sim.api, sim.namespace);
      if (now.every((t) => t === 'host-gw') && lab.nodes.every((n) => states.get(n.name) === true)) break;
      assert.ok(Date.now() < deadline, `rollout did not finish: ${now.join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(mixedPings, true, 'a mixed vxlan/host-gw window was seen and pods talked across it');
    await new Promise((r) => setTimeout(r, 400)); // one routeCheck period
    await sim.agents.idle();

    for (const node of main) {
      const table = await routes(node);
      for (const peer of main.filter((p) => p !== node)) {
        const r = table.find((x) => x.dst === peer.podCidr);
        assert.deepEqual([r?.gateway, r?.dev], [peer.address, 'eth0'], `${node.name} -> ${peer.podCidr}`);
      }
      assert.equal(
        table.find((x) => x.dst === remote.podCidr),
        undefined,
        'no route to the remote node is possible',
      );
      assert.match(
        await podLog(node.name),
        /Replacing existing route to \{Ifindex: \d+ Dst: 10\.244\.\d\.0\/24 .*Gw: 10\.244\.\d\.0 Flags: \[onlink\]/,
      );
    }
    for (const node of lab.nodes) {
      assert.ok(await flannelMac(node), `${node.name} still has the stale flannel.1`);
      assert.match(subnetEnv(node), /FLANNEL_MTU=1500/);
      assert.equal(annotation(node.name, ANNOTATIONS.backendData), 'null');
    }
    for (const from of main) for (const to of main) if (from !== to) assert.ok(await ping(from, to));
    assert.match(
      await podLog(remote.name),
      new RegExp(
        `Error adding route to \\{Ifindex: \\d+ Dst: ${main[0]!.podCidr.replace(/\./g, '\\.')} Src: <nil> Gw: ${main[0]!.address.replace(/\./g, '\\.')} Flags: \\[\\] Table: 0 Realm: 0\\}: network is unreachable`,
      ),
    );
    assert.match(
      await podLog(main[0]!.name),
      /Error adding route to .*Dst: 10\.244\.4\.0\/24.*: network is unreachable/,
    );
    assert.equal(await ping(main[0]!, remote), false);
    assert.equal(await ping(remote, main[0]!), false);
  },
);
