import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  nodeAccessPod,
  nodeAccessPodName,
  nodeAccessSelector,
  podState,
} from '../../src/nodes/kube-exec-pod.ts';
import type { KubeObject } from '../../src/kube/kube-object.ts';

const pod = nodeAccessPod({
  runId: 'a1b2c3',
  namespace: 'kube-flannel',
  node: 'node-2',
  image: 'ghcr.io/flannel-io/flannel:v0.28.9',
});
type Spec = {
  nodeName: string;
  hostNetwork: boolean;
  hostPID: boolean;
  tolerations: unknown[];
  automountServiceAccountToken: boolean;
  containers: {
    name: string;
    image: string;
    command: string[];
    securityContext: Record<string, unknown>;
    volumeMounts: { name: string; mountPath: string; readOnly: boolean }[];
  }[];
  activeDeadlineSeconds: number;
  restartPolicy: string;
  volumes: { name: string; hostPath: { path: string; type: string } }[];
};
const spec = pod.spec as Spec;

test('the node-access pod is pinned to its node, on the host network, tolerating every taint', () => {
  assert.equal(spec.nodeName, 'node-2');
  assert.equal(spec.hostNetwork, true);
  assert.equal(spec.hostPID, false);
  assert.deepEqual(spec.tolerations, [{ operator: 'Exists' }]);
  assert.equal(spec.automountServiceAccountToken, false);
  assert.equal(pod.metadata.namespace, 'kube-flannel');
});

test('it drops every capability but NET_ADMIN and NET_RAW, with RuntimeDefault seccomp and no escalation', () => {
  const [container] = spec.containers;
  assert.equal(spec.containers.length, 1);
  assert.equal(container!.image, 'ghcr.io/flannel-io/flannel:v0.28.9');
  assert.deepEqual(container!.securityContext, {
    privileged: false,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
});

test("the host's /run/flannel is mounted read-only and only if it exists (never created on the host)", () => {
  const [container] = spec.containers;
  const mount = container!.volumeMounts.find((m) => m.mountPath === '/run/flannel');
  assert.equal(mount?.readOnly, true);
  assert.equal(container!.volumeMounts.length, 1);
  assert.deepEqual(spec.volumes, [
    { name: mount!.name, hostPath: { path: '/run/flannel', type: 'Directory' } },
  ]);
});

test('the pod ends itself within the hour even if flannelctl is killed before it can delete it', () => {
  assert.equal(spec.activeDeadlineSeconds, 3600);
  assert.equal(spec.restartPolicy, 'Never');
  assert.deepEqual(spec.containers[0]!.command, ['sleep', '3600']);
});

test('it carries the managed-by and run labels its selector finds', () => {
  assert.equal(pod.metadata.labels?.['app.kubernetes.io/managed-by'], 'flannelctl');
  assert.equal(pod.metadata.labels?.['flannelctl.io/node-access'], 'a1b2c3');
  assert.equal(
    nodeAccessSelector('a1b2c3'),
    'app.kubernetes.io/managed-by=flannelctl,flannelctl.io/node-access=a1b2c3',
  );
});

test('pod names are DNS labels of at most 63 characters, unique per node', () => {
  assert.equal(nodeAccessPodName('a1b2c3', 'node-2'), 'flannelctl-access-a1b2c3-node-2');
  assert.equal(
    nodeAccessPodName('a1b2c3', 'ip-10-0-1-5.ec2.internal'),
    'flannelctl-access-a1b2c3-ip-10-0-1-5-ec2-internal',
  );
  const long = (suffix: string) => `worker-${'x'.repeat(60)}-${suffix}.example.com`;
  const a = nodeAccessPodName('a1b2c3', long('a'));
  const b = nodeAccessPodName('a1b2c3', long('b'));
  for (const name of [a, b]) {
    assert.ok(name.length <= 63, name);
    assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  }
  assert.notEqual(a, b);
});

const withStatus = (status: unknown): KubeObject => ({ ...pod, status }) as KubeObject;

test('podState: running, still starting, and the reasons a pod never starts', () => {
  assert.deepEqual(
    podState(
      withStatus({ phase: 'Running', containerStatuses: [{ name: 'node-access', state: { running: {} } }] }),
    ),
    { state: 'running' },
  );
  assert.deepEqual(
    podState(
      withStatus({
        phase: 'Pending',
        containerStatuses: [{ name: 'node-access', state: { waiting: { reason: 'ContainerCreating' } } }],
      }),
    ),
    { state: 'starting', detail: 'Pending, ContainerCreating' },
  );
  const pull = podState(
    withStatus({
      phase: 'Pending',
      containerStatuses: [
        { name: 'node-access', state: { waiting: { reason: 'ImagePullBackOff', message: 'not found' } } },
      ],
    }),
  );
  assert.deepEqual(pull, { state: 'failed', reason: 'ImagePullBackOff: not found' });
  const evicted = podState(withStatus({ phase: 'Failed', reason: 'Evicted', message: 'low on memory' }));
  assert.deepEqual(evicted, { state: 'failed', reason: 'Evicted: low on memory' });
  assert.equal(podState(undefined).state, 'failed');
});
