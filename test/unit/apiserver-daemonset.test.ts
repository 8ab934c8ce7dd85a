import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { AppsV1Api, V1DaemonSet } from '@kubernetes/client-node';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import type { ApiServer } from '../../src/sim/apiserver/index.ts';
import { isPodReady } from '../../src/sim/apiserver/index.ts';
import { eventually, seedNodes, startTestCluster } from '../helpers/apiserver.ts';

const NS = 'kube-flannel';

const flannelDaemonSet = (strategy?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'kube-flannel-ds', namespace: NS, labels: { app: 'flannel' } },
  spec: {
    selector: { matchLabels: { app: 'flannel' } },
    ...(strategy ? { updateStrategy: strategy } : {}),
    template: {
      metadata: { labels: { app: 'flannel', tier: 'node' } },
      spec: {
        hostNetwork: true,
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] },
              ],
            },
          },
        },
        tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.28.9' }],
      },
    },
  },
});

const pods = (server: ApiServer) => server.list('pods', NS, 'app=flannel');
const ds = (server: ApiServer) => server.get('daemonsets', NS, 'kube-flannel-ds') as V1DaemonSet & KubeObject;

/** kubectl's DaemonSet rollout status: done when observed, all updated and all available. */
const rolledOut = (d: V1DaemonSet): boolean =>
  (d.metadata?.generation ?? 0) <= (d.status?.observedGeneration ?? 0) &&
  (d.status?.updatedNumberScheduled ?? 0) >= (d.status?.desiredNumberScheduled ?? 0) &&
  (d.status?.numberAvailable ?? 0) >= (d.status?.desiredNumberScheduled ?? 0);

const restart = (apps: AppsV1Api, at: string) =>
  apps.patchNamespacedDaemonSet(
    {
      name: 'kube-flannel-ds',
      namespace: NS,
      fieldManager: 'kubectl-rollout',
      body: {
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );

const nsSeed = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } };

test('one pod per eligible node: linux only, taints respected, owned, labelled, hostNetwork IPs', async (t) => {
  const nodes = [
    ...seedNodes(3),
    {
      name: 'win-1',
      internalIP: '192.168.77.40',
      podCIDR: '10.244.40.0/24',
      labels: { 'kubernetes.io/os': 'windows' },
    },
    {
      name: 'tainted',
      internalIP: '192.168.77.41',
      podCIDR: '10.244.41.0/24',
      taints: [{ key: 'dedicated', effect: 'NoExecute' as const }],
    },
    {
      name: 'cp',
      internalIP: '192.168.77.42',
      podCIDR: '10.244.42.0/24',
      taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' as const }],
    },
  ];
  const { server } = await startTestCluster(t, { seed: { nodes, objects: [nsSeed, flannelDaemonSet()] } });
  const running = await eventually(() => {
    const d = ds(server);
    return d.status?.numberReady === 4 && rolledOut(d) ? pods(server) : undefined;
  }, 'four ready pods');
  assert.deepEqual(running.map((p) => (p.spec as { nodeName: string }).nodeName).sort(), [
    'cp',
    'node-1',
    'node-2',
    'node-3',
  ]);
  for (const pod of running) {
    assert.match(pod.metadata!.name!, /^kube-flannel-ds-[a-z0-9]{5}$/);
    assert.equal(pod.metadata!.labels!.tier, 'node');
    assert.match(pod.metadata!.labels!['controller-revision-hash']!, /^[a-z0-9]+$/);
    assert.equal(pod.metadata!.labels!['pod-template-generation'], '1');
    assert.deepEqual(
      pod.metadata!.ownerReferences!.map((r) => `${r.kind}/${r.name}/${r.controller}`),
      ['DaemonSet/kube-flannel-ds/true'],
    );
    const node = server.get('nodes', undefined, (pod.spec as { nodeName: string }).nodeName)!;
    const ip = (node.status as { addresses: { type: string; address: string }[] }).addresses[0]!.address;
    assert.equal((pod.status as { podIP: string }).podIP, ip);
    assert.equal((pod.status as { phase: string }).phase, 'Running');
  }
  const status = ds(server).status!;
  assert.equal(status.desiredNumberScheduled, 4);
  assert.equal(status.currentNumberScheduled, 4);
  assert.equal(status.updatedNumberScheduled, 4);
  assert.equal(status.numberAvailable, 4);
  assert.equal(status.numberUnavailable, undefined);
  assert.equal(status.observedGeneration, 1);
});

test('rollout restart replaces pods one at a time, each new pod Ready before the next old one goes', async (t) => {
  const { server, apps } = await startTestCluster(t, {
    seed: { nodes: seedNodes(4), objects: [nsSeed, flannelDaemonSet()] },
  });
  const before = await eventually(
    () => (rolledOut(ds(server)) && ds(server).status?.numberReady === 4 ? pods(server) : undefined),
    'initial rollout',
  );
  let minReady = Infinity;
  const unsubscribe = server.store.subscribe(() => {
    minReady = Math.min(minReady, pods(server).filter(isPodReady).length);
  });
  t.after(unsubscribe);
  const patched = await restart(apps, '2026-11-26T10:00:00+01:00');
  assert.equal(patched.metadata?.generation, 2);
  const after = await eventually(() => {
    const d = ds(server);
    return d.status?.observedGeneration === 2 && rolledOut(d) ? pods(server) : undefined;
  }, 'the restart rollout');
  assert.equal(after.length, 4);
  const oldNames = new Set(before.map((p) => p.metadata!.name));
  assert.ok(
    after.every((p) => !oldNames.has(p.metadata!.name)),
    'every pod was replaced',
  );
  assert.ok(after.every((p) => p.metadata!.labels!['pod-template-generation'] === '2'));
  assert.equal(minReady, 3, 'never more than maxUnavailable=1 pod down');
  assert.deepEqual(
    { ...ds(server).status },
    {
      currentNumberScheduled: 4,
      numberMisscheduled: 0,
      desiredNumberScheduled: 4,
      numberReady: 4,
      observedGeneration: 2,
      updatedNumberScheduled: 4,
      numberAvailable: 4,
    },
  );
});

test('a pod that never becomes Ready keeps the rollout from completing', async (t) => {
  const { server, apps } = await startTestCluster(t, {
    seed: { nodes: seedNodes(3), objects: [nsSeed, flannelDaemonSet()] },
  });
  await eventually(() => rolledOut(ds(server)) && ds(server).status?.numberReady === 3, 'initial rollout');
  server.faults.neverReady('node-2');
  await restart(apps, '2026-11-26T10:00:00Z');
  const stuck = await eventually(() => {
    const pod = pods(server).find((p) => (p.spec as { nodeName: string }).nodeName === 'node-2');
    return pod &&
      pod.metadata!.labels!['pod-template-generation'] === '2' &&
      (pod.status as { phase: string }).phase === 'Running'
      ? pod
      : undefined;
  }, 'the new pod on node-2 running');
  assert.equal(isPodReady(stuck), false);
  // Give the controller every chance to finish; it must not.
  await new Promise((r) => setTimeout(r, 300));
  const d = ds(server);
  assert.equal(rolledOut(d), false);
  assert.ok((d.status?.numberAvailable ?? 0) < 3);
  assert.equal(d.status?.numberUnavailable, 3 - (d.status?.numberAvailable ?? 0));
});

test('OnDelete changes nothing on a template change until a pod is deleted', async (t) => {
  const { server, apps, core } = await startTestCluster(t, {
    seed: { nodes: seedNodes(2), objects: [nsSeed, flannelDaemonSet({ type: 'OnDelete' })] },
  });
  const before = await eventually(
    () => (ds(server).status?.numberReady === 2 ? pods(server) : undefined),
    'pods ready',
  );
  await restart(apps, '2026-11-26T10:00:00Z');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(
    pods(server)
      .map((p) => p.metadata!.name)
      .sort(),
    before.map((p) => p.metadata!.name).sort(),
  );
  assert.equal(ds(server).status?.updatedNumberScheduled, 0);
  await core.deleteNamespacedPod({ name: before[0]!.metadata!.name!, namespace: NS });
  await eventually(
    () => ds(server).status?.updatedNumberScheduled === 1 && ds(server).status?.numberReady === 2,
    'one updated pod',
  );
});

test('hooks: a started pod is Ready only when its hook resolves, a rejection denies it, deletions are reported', async (t) => {
  const { server, apps, core } = await startTestCluster(t, {
    seed: { nodes: seedNodes(2), objects: [nsSeed] },
  });
  const release = new Map<string, () => void>();
  server.onPodStarted((pod) => {
    const node = (pod.spec as { nodeName: string }).nodeName;
    if (node === 'node-2') return Promise.reject(new Error('flanneld failed to start'));
    return new Promise<void>((resolve) => release.set(pod.metadata!.name!, resolve));
  });
  const deleted: string[] = [];
  server.onPodDeleted((pod) => void deleted.push((pod.spec as { nodeName: string }).nodeName));
  await apps.createNamespacedDaemonSet({ namespace: NS, body: flannelDaemonSet() as V1DaemonSet });
  const [name, resolve] = await eventually(() => [...release][0], 'the hook on node-1');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(isPodReady(server.get('pods', NS, name)!), false, 'not ready while the hook is pending');
  resolve();
  await eventually(() => isPodReady(server.get('pods', NS, name)!), 'ready after the hook resolved');
  const failed = pods(server).find((p) => (p.spec as { nodeName: string }).nodeName === 'node-2')!;
  await eventually(() => {
    const statuses = (
      server.get('pods', NS, failed.metadata!.name!)!.status as {
        containerStatuses?: { state: { waiting?: { reason: string } } }[];
      }
    ).containerStatuses;
    return statuses?.[0]?.state.waiting?.reason === 'CrashLoopBackOff';
  }, 'CrashLoopBackOff on node-2');
  await apps.deleteNamespacedDaemonSet({ name: 'kube-flannel-ds', namespace: NS });
  assert.equal(
    (await core.listNamespacedPod({ namespace: NS })).items.length,
    0,
    'pods are garbage-collected with their DaemonSet',
  );
  await eventually(() => deleted.length === 2, 'both deletions reported');
  assert.deepEqual(deleted.sort(), ['node-1', 'node-2']);
});

test('pods/log serves appended lines with tailLines and container selection', async (t) => {
  const { server, core } = await startTestCluster(t, {
    seed: { nodes: seedNodes(1), objects: [nsSeed, flannelDaemonSet()] },
  });
  const [pod] = await eventually(() => (pods(server).length === 1 ? pods(server) : undefined), 'the pod');
  const name = pod!.metadata!.name!;
  server.appendPodLog(NS, name, 'I1126 main.go:1] starting flannel\nI1126 main.go:2] backend host-gw\n');
  server.appendPodLog(NS, name, 'I1126 main.go:3] running');
  assert.equal(
    await core.readNamespacedPodLog({ name, namespace: NS }),
    'I1126 main.go:1] starting flannel\nI1126 main.go:2] backend host-gw\nI1126 main.go:3] running\n',
  );
  assert.equal(
    await core.readNamespacedPodLog({ name, namespace: NS, tailLines: 1, container: 'kube-flannel' }),
    'I1126 main.go:3] running\n',
  );
  await assert.rejects(
    core.readNamespacedPodLog({ name, namespace: NS, container: 'nope' }),
    (error) => (error as { code: number }).code === 400,
  );
});
