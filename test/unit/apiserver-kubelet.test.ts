// The emulator's kubelet before and around a pod's containers: admission (a NoExecute taint rejects),
// image pulls that cannot succeed, a node whose kubelet went silent, and readiness probes, each with
// the status and Events real kubelet and containerd write.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, seedNodes, startTestCluster } from '../helpers/apiserver.ts';
import { imagePullFailure } from '../../src/sim/apiserver/image-pull.ts';
import { resourceByName } from '../../src/sim/apiserver/resources.ts';
import type { ApiServer } from '../../src/sim/apiserver/index.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';

interface Status {
  phase?: string;
  reason?: string;
  message?: string;
  podIP?: string;
  startTime?: string;
  conditions?: { type: string; status: string }[];
  containerStatuses?: { ready: boolean; state: { waiting?: { reason: string; message?: string } } }[];
}

const pod = (name: string, node: string, extra: Record<string, unknown> = {}, image = 'busybox:1.36') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { nodeName: node, containers: [{ name: 'main', image, ...extra }], ...extra.spec! },
});

const statusOf = (api: ApiServer, name: string): Status =>
  (api.get('pods', 'default', name)?.status ?? {}) as Status;

const eventsOf = (api: ApiServer, name: string) =>
  (
    api.list('events', 'default') as (KubeObject & {
      involvedObject: { name: string };
      type: string;
      reason: string;
      message: string;
      source: { component: string; host?: string };
    })[]
  ).filter((e) => e.involvedObject.name === name);

const ready = (s: Status) => s.conditions?.find((c) => c.type === 'Ready')?.status;

test('image references the runtime cannot use: containerd’s pull error for .invalid hosts, InvalidImageName', () => {
  assert.deepEqual(imagePullFailure('reg.invalid:5000/team/iperf3:3.16'), {
    reason: 'ErrImagePull',
    message:
      'rpc error: code = Unknown desc = failed to pull and unpack image "reg.invalid:5000/team/iperf3:3.16": failed to resolve reference "reg.invalid:5000/team/iperf3:3.16": failed to do request: Head "https://reg.invalid:5000/v2/team/iperf3/manifests/3.16": dial tcp: lookup reg.invalid on 127.0.0.53:53: no such host',
  });
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.match(
    imagePullFailure(`mirror.invalid/iperf3@${digest}`)!.message,
    /manifests\/sha256:a{64}": dial tcp/,
  );
  assert.equal(imagePullFailure('busybox:1.36'), undefined, 'docker.io resolves');
  assert.equal(imagePullFailure('quay.io/invalid/x'), undefined, 'only the host decides');
  assert.equal(imagePullFailure('invalid/x'), undefined, 'a first path component without a dot is docker.io');
  assert.deepEqual(imagePullFailure('Team/Iperf3'), {
    reason: 'InvalidImageName',
    message:
      'Failed to apply default image tag "Team/Iperf3": couldn\'t parse image reference "Team/Iperf3": invalid reference format',
  });
});

test('an unpullable image: Pulling, Failed, ErrImagePull, then BackOff and ImagePullBackOff', async (t) => {
  const { server: api } = await startTestCluster(t, { sandboxRetryMs: 30 });
  api.create(pod('web', 'node-1', {}, 'registry.invalid/web'));
  const first = await eventually(() => {
    const s = statusOf(api, 'web');
    return s.containerStatuses?.[0]?.state.waiting?.reason === 'ErrImagePull' && s;
  }, 'ErrImagePull');
  assert.equal(first.phase, 'Pending');
  assert.match(first.podIP ?? '', /^10\.244\.1\./, 'the sandbox exists with its address');
  assert.match(
    first.containerStatuses![0]!.state.waiting!.message!,
    /^rpc error: code = Unknown desc = failed to pull and unpack image "registry\.invalid\/web:latest"/,
  );
  await eventually(
    () => statusOf(api, 'web').containerStatuses?.[0]?.state.waiting?.reason === 'ImagePullBackOff',
    'ImagePullBackOff',
  );
  const events = eventsOf(api, 'web');
  const seen = (reason: string, message: RegExp) =>
    events.some((e) => e.reason === reason && message.test(e.message) && e.source.host === 'node-1');
  assert.ok(seen('Pulling', /^Pulling image "registry\.invalid\/web"$/));
  assert.ok(seen('Failed', /^Failed to pull image "registry\.invalid\/web": rpc error: .*no such host$/));
  assert.ok(seen('Failed', /^Error: ErrImagePull$/));
  assert.ok(seen('BackOff', /^Back-off pulling image "registry\.invalid\/web"$/));
  assert.ok(seen('Failed', /^Error: ImagePullBackOff$/));
  assert.equal(statusOf(api, 'web').phase, 'Pending', 'never Running');
});

test('a reference that does not parse: InvalidImageName and an InspectFailed event', async (t) => {
  const { server: api } = await startTestCluster(t);
  api.create(pod('bad', 'node-1', {}, 'Team/Iperf3'));
  const waiting = await eventually(
    () => statusOf(api, 'bad').containerStatuses?.[0]?.state.waiting,
    'a waiting state',
  );
  assert.equal(waiting.reason, 'InvalidImageName');
  assert.ok(eventsOf(api, 'bad').some((e) => e.reason === 'InspectFailed' && e.type === 'Warning'));
});

test('kubelet admission: an untolerated NoExecute taint rejects the pod; NoSchedule does not', async (t) => {
  const nodes = seedNodes(3).map((n) =>
    n.name === 'node-2'
      ? {
          ...n,
          taints: [
            { key: 'dedicated', value: 'infra', effect: 'NoExecute' as const },
            { key: 'gpu', effect: 'NoSchedule' as const },
          ],
        }
      : n,
  );
  const { server: api } = await startTestCluster(t, { seed: { nodes } });
  api.create(pod('refused', 'node-2'));
  api.create({
    ...pod('tolerated', 'node-2'),
    spec: {
      nodeName: 'node-2',
      tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }],
      containers: [{ name: 'main', image: 'busybox:1.36' }],
    },
  });
  const refused = await eventually(
    () => statusOf(api, 'refused').phase === 'Failed' && statusOf(api, 'refused'),
    'rejection',
  );
  assert.equal(refused.reason, 'TaintToleration');
  assert.equal(
    refused.message,
    "Pod was rejected: Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
  );
  assert.equal(refused.containerStatuses, undefined, 'no container was ever created');
  const [event] = eventsOf(api, 'refused');
  assert.equal(event?.type, 'Warning');
  assert.equal(event?.reason, 'TaintToleration');
  assert.deepEqual(event?.source, { component: 'kubelet', host: 'node-2' });
  await eventually(() => ready(statusOf(api, 'tolerated')) === 'True', 'the tolerating pod runs');
});

test('a node whose kubelet stopped posting status starts no pod until it is back', async (t) => {
  const { server: api } = await startTestCluster(t);
  const NODES = resourceByName('nodes');
  const setReady = (status: string) => {
    const node = api.get('nodes', undefined, 'node-3')!;
    const s = node.status as { conditions: { type: string }[] };
    api.registry.writeStatus(
      NODES,
      undefined,
      'node-3',
      { ...s, conditions: s.conditions.map((c) => (c.type === 'Ready' ? { ...c, status } : c)) },
      'kube-controller-manager',
    );
  };
  setReady('Unknown');
  api.create(pod('waiting', 'node-3'));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(statusOf(api, 'waiting').startTime, undefined, 'no kubelet wrote a status');
  assert.deepEqual(eventsOf(api, 'waiting'), []);
  setReady('True');
  await eventually(() => ready(statusOf(api, 'waiting')) === 'True', 'started once the kubelet is back');
});

test('readiness probes: Unhealthy events while the port is closed, Ready once it opens', async (t) => {
  const { server: api } = await startTestCluster(t);
  const probe = { readinessProbe: { tcpSocket: { port: 5201 }, periodSeconds: 1 } };
  // The runtime's own probe: refused twice, then the server listens.
  let tries = 0;
  api.onPodStarted((p) =>
    p.metadata?.name === 'late'
      ? {
          probe: async () =>
            ++tries > 2 ? undefined : 'dial tcp 10.244.1.9:5201: connect: connection refused',
        }
      : undefined,
  );
  api.create(pod('late', 'node-1', probe));
  await eventually(() => statusOf(api, 'late').phase === 'Running', 'Running');
  assert.notEqual(ready(statusOf(api, 'late')), 'True', 'not Ready while the probe fails');
  await eventually(() => ready(statusOf(api, 'late')) === 'True', 'Ready after the port opened', 5000);
  assert.equal(statusOf(api, 'late').containerStatuses?.[0]?.ready, true);
  const unhealthy = eventsOf(api, 'late').filter((e) => e.reason === 'Unhealthy');
  assert.equal(unhealthy.length, 1, 'one Event, counted');
  assert.equal(
    unhealthy[0]!.message,
    'Readiness probe failed: dial tcp 10.244.1.9:5201: connect: connection refused',
  );
  assert.equal((unhealthy[0] as { count?: number }).count, 2);

  // A "never ready" node refuses the probe's port.
  api.faults.neverReady('node-2');
  api.create(pod('deaf', 'node-2', probe));
  const event = await eventually(
    () => eventsOf(api, 'deaf').find((e) => e.reason === 'Unhealthy'),
    'an Unhealthy event',
  );
  assert.match(
    event.message,
    /^Readiness probe failed: dial tcp 10\.244\.2\.\d+:5201: connect: connection refused$/,
  );
  assert.equal(statusOf(api, 'deaf').phase, 'Running');
  assert.notEqual(ready(statusOf(api, 'deaf')), 'True');
});
