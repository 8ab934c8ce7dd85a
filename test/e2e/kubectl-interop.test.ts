// The real kubectl binary against the API emulator: discovery, tables, server-side apply,
// rollout restart/status over watch, auth can-i (protobuf request), logs.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectlRequirement } from '../helpers/requirements.ts';
import { seedNodes } from '../helpers/apiserver.ts';
import type { ApiServer } from '../../src/sim/apiserver/index.ts';
import { startApiServer } from '../../src/sim/apiserver/index.ts';

const skip = kubectlRequirement();
const MANIFEST = fileURLToPath(new URL('../../fixtures/kube/flannel-minimal.yaml', import.meta.url));

interface Kubectl {
  (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  server: ApiServer;
}

/** Async on purpose: the emulator serves from this very process, so a sync spawn would deadlock. */
const setup = async (t: TestContext): Promise<Kubectl> => {
  const dir = await mkdtemp(join(tmpdir(), 'flannelctl-kubectl-'));
  const server = await startApiServer({ readyDelayMs: 30, seed: { nodes: seedNodes(3) } });
  t.after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });
  const kubeconfig = join(dir, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
  // Its own HOME keeps kubectl's discovery cache out of the user's ~/.kube.
  const env = { PATH: process.env.PATH, HOME: dir, KUBECONFIG: kubeconfig };
  const run = ((...args: string[]) =>
    new Promise((resolve) => {
      execFile('kubectl', args, { env, timeout: 90_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
    })) as Kubectl;
  run.server = server;
  return run;
};

test('kubectl get nodes -o wide shows the INTERNAL-IP column', { skip }, async (t) => {
  const kubectl = await setup(t);
  const r = await kubectl('get', 'nodes', '-o', 'wide');
  assert.equal(r.code, 0, r.stderr);
  const [header, ...rows] = r.stdout.trim().split('\n');
  assert.match(header!, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE/);
  assert.equal(rows.length, 3);
  assert.match(rows[0]!, /^node-1\s+Ready\s+<none>\s+\S+\s+v1\.32\.\d+\s+192\.168\.77\.11\s+<none>/);
});

test(
  'kubectl apply --server-side creates the manifest, and applying again changes nothing',
  { skip },
  async (t) => {
    const kubectl = await setup(t);
    const first = await kubectl('apply', '--server-side', '-f', MANIFEST);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^daemonset\.apps\/kube-flannel-ds serverside-applied$/m);
    assert.match(first.stdout, /^configmap\/kube-flannel-cfg serverside-applied$/m);
    const cm = await kubectl('get', 'cm', 'kube-flannel-cfg', '-n', 'kube-flannel', '-o', 'yaml');
    assert.equal(cm.code, 0, cm.stderr);
    assert.match(cm.stdout, /"Type": "host-gw"/);
    assert.match(cm.stdout, /^kind: ConfigMap$/m);
    assert.match(cm.stdout, /^ {2}resourceVersion: "\d+"$/m);
    // Let the controller finish its status writes, then prove the re-apply stores nothing.
    const ds = () => kubectl.server.get('daemonsets', 'kube-flannel', 'kube-flannel-ds')!;
    await new Promise((r) => setTimeout(r, 300));
    const before = ds().metadata!.resourceVersion;
    const cmBefore = kubectl.server.get('configmaps', 'kube-flannel', 'kube-flannel-cfg')!.metadata!
      .resourceVersion;
    const second = await kubectl('apply', '--server-side', '-f', MANIFEST);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(ds().metadata!.resourceVersion, before);
    assert.equal(ds().metadata!.generation, 1);
    assert.equal(
      kubectl.server.get('configmaps', 'kube-flannel', 'kube-flannel-cfg')!.metadata!.resourceVersion,
      cmBefore,
    );
  },
);

test(
  'kubectl rollout restart then rollout status succeeds once every pod is replaced',
  { skip },
  async (t) => {
    const kubectl = await setup(t);
    assert.equal((await kubectl('apply', '--server-side', '-f', MANIFEST)).code, 0);
    const initial = await kubectl(
      'rollout',
      'status',
      'ds/kube-flannel-ds',
      '-n',
      'kube-flannel',
      '--timeout=60s',
    );
    assert.equal(initial.code, 0, initial.stderr);
    const podsBefore = kubectl.server.list('pods', 'kube-flannel').map((p) => p.metadata!.name);
    const restart = await kubectl('rollout', 'restart', 'ds/kube-flannel-ds', '-n', 'kube-flannel');
    assert.equal(restart.code, 0, restart.stderr);
    assert.equal(restart.stdout.trim(), 'daemonset.apps/kube-flannel-ds restarted');
    const status = await kubectl(
      'rollout',
      'status',
      'ds/kube-flannel-ds',
      '-n',
      'kube-flannel',
      '--timeout=60s',
    );
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /daemon set "kube-flannel-ds" successfully rolled out/);
    const podsAfter = kubectl.server.list('pods', 'kube-flannel').map((p) => p.metadata!.name);
    assert.equal(podsAfter.length, 3);
    assert.ok(podsAfter.every((name) => !podsBefore.includes(name)));
    const patch = kubectl.server.requests.records.find(
      (r) =>
        r.method === 'PATCH' &&
        r.resource === 'daemonsets' &&
        r.query.includes('fieldManager=kubectl-rollout'),
    );
    assert.equal(patch?.contentType, 'application/strategic-merge-patch+json');
  },
);

test('kubectl rollout status times out while a pod never becomes Ready', { skip }, async (t) => {
  const kubectl = await setup(t);
  assert.equal((await kubectl('apply', '--server-side', '-f', MANIFEST)).code, 0);
  assert.equal(
    (await kubectl('rollout', 'status', 'ds/kube-flannel-ds', '-n', 'kube-flannel', '--timeout=60s')).code,
    0,
  );
  kubectl.server.faults.neverReady('node-3');
  assert.equal((await kubectl('rollout', 'restart', 'ds/kube-flannel-ds', '-n', 'kube-flannel')).code, 0);
  const status = await kubectl(
    'rollout',
    'status',
    'ds/kube-flannel-ds',
    '-n',
    'kube-flannel',
    '--timeout=2s',
  );
  assert.equal(status.code, 1);
  assert.match(status.stderr, /timed out waiting for the condition/);
});

test('kubectl auth can-i follows injected Forbidden faults', { skip }, async (t) => {
  const kubectl = await setup(t);
  const allowed = await kubectl('auth', 'can-i', 'patch', 'daemonsets', '-n', 'kube-flannel');
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.equal(allowed.stdout.trim(), 'yes');
  kubectl.server.faults.forbid({ verb: 'patch', resource: 'daemonsets', namespace: 'kube-flannel' });
  const denied = await kubectl('auth', 'can-i', 'patch', 'daemonsets', '-n', 'kube-flannel');
  assert.equal(denied.code, 1);
  assert.equal(denied.stdout.trim(), 'no');
  const other = await kubectl('auth', 'can-i', 'get', 'daemonsets', '-n', 'kube-flannel');
  assert.equal(other.stdout.trim(), 'yes');
});

test('kubectl logs shows what the pod printed', { skip }, async (t) => {
  const kubectl = await setup(t);
  assert.equal((await kubectl('apply', '--server-side', '-f', MANIFEST)).code, 0);
  assert.equal(
    (await kubectl('rollout', 'status', 'ds/kube-flannel-ds', '-n', 'kube-flannel', '--timeout=60s')).code,
    0,
  );
  const pod = kubectl.server.list('pods', 'kube-flannel')[0]!;
  kubectl.server.appendPodLog(
    'kube-flannel',
    pod.metadata!.name!,
    'I1126 main.go:1] Using backend host-gw\n',
  );
  const logs = await kubectl('logs', '-n', 'kube-flannel', pod.metadata!.name!, '--tail=5');
  assert.equal(logs.code, 0, logs.stderr);
  assert.equal(logs.stdout, 'I1126 main.go:1] Using backend host-gw\n');
});

test(
  'kubectl create namespace|configmap|serviceaccount|role|rolebinding… (protobuf bodies) stores what was sent',
  { skip },
  async (t) => {
    const kubectl = await setup(t);
    const created = [
      ['create', 'namespace', 'team-a'],
      [
        '-n',
        'team-a',
        'create',
        'configmap',
        'settings',
        '--from-literal=mode=fast',
        '--from-literal=empty=',
      ],
      ['-n', 'team-a', 'create', 'serviceaccount', 'ci'],
      [
        '-n',
        'team-a',
        'create',
        'role',
        'reader',
        '--verb=get,list',
        '--resource=pods',
        '--resource-name=web',
      ],
      [
        '-n',
        'team-a',
        'create',
        'rolebinding',
        'read',
        '--role=reader',
        '--user=bob',
        '--serviceaccount=team-a:ci',
      ],
      ['create', 'clusterrole', 'node-reader', '--verb=get', '--resource=nodes'],
      ['create', 'clusterrolebinding', 'node-read', '--clusterrole=node-reader', '--group=ops'],
    ];
    for (const args of created) {
      const r = await kubectl(...args);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, / created$/m);
    }
    const get = async (...args: string[]) => {
      const r = await kubectl(...args, '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const ns = await get('get', 'namespace', 'team-a');
    assert.equal(ns.metadata.labels['kubernetes.io/metadata.name'], 'team-a');
    assert.equal(
      ns.metadata.generateName,
      undefined,
      'empty strings from protobuf are left out, as JSON omits them',
    );
    const cm = await get('-n', 'team-a', 'get', 'configmap', 'settings');
    assert.deepEqual(cm.data, { mode: 'fast', empty: '' }, 'an empty map value is still a key');
    const sa = await get('-n', 'team-a', 'get', 'serviceaccount', 'ci');
    assert.equal(sa.metadata.namespace, 'team-a');
    const role = await get('-n', 'team-a', 'get', 'role', 'reader');
    assert.deepEqual(role.rules, [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'], resourceNames: ['web'] },
    ]);
    const binding = await get('-n', 'team-a', 'get', 'rolebinding', 'read');
    assert.deepEqual(binding.roleRef, {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'reader',
    });
    assert.deepEqual(binding.subjects, [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' },
      { kind: 'ServiceAccount', name: 'ci', namespace: 'team-a' },
    ]);
    const crb = await get('get', 'clusterrolebinding', 'node-read');
    assert.deepEqual(crb.subjects, [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'ops' }]);
    // --as: judged as bob (impersonation); a resourceNames rule grants get on that name, never list.
    const can = async (...args: string[]) => (await kubectl('auth', 'can-i', ...args)).stdout.trim();
    assert.equal(await can('get', 'pods/web', '-n', 'team-a', '--as', 'bob'), 'yes');
    assert.equal(await can('list', 'pods', '-n', 'team-a', '--as', 'bob'), 'no');
    assert.equal(await can('get', 'pods/web', '-n', 'team-a', '--as', 'alice'), 'no');
    assert.equal(
      await can('get', 'pods/web', '-n', 'team-a', '--as', 'system:serviceaccount:team-a:ci'),
      'yes',
    );
    assert.equal(await can('get', 'nodes', '--as', 'carol', '--as-group', 'ops'), 'yes', 'the group binding');
    const denied = await kubectl('get', 'pods', '-n', 'team-a', '--as', 'alice');
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stderr,
      /pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "team-a"/,
    );
  },
);

test(
  'kubectl create of a kind the emulator does not serve gets kube-apiserver 404, not 405',
  { skip },
  async (t) => {
    const kubectl = await setup(t);
    const r = await kubectl('create', 'deployment', 'web', '--image=nginx');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /failed to create deployment: the server could not find the requested resource/);
  },
);

test('kubectl describe node shows the kubelet Lease, and get leases its holder', { skip }, async (t) => {
  const kubectl = await setup(t);
  const describe = await kubectl('describe', 'node', 'node-1');
  assert.equal(describe.code, 0, describe.stderr);
  assert.match(
    describe.stdout,
    /^Lease:\n {2}HolderIdentity: {2}node-1\n {2}AcquireTime: {5}<unset>\n {2}RenewTime: {7}\w{3}, /m,
  );
  assert.doesNotMatch(describe.stdout + describe.stderr, /Failed to get lease/);
  const leases = await kubectl('get', 'leases', '-n', 'kube-node-lease');
  assert.equal(leases.code, 0, leases.stderr);
  assert.match(leases.stdout, /^NAME\s+HOLDER\s+AGE\nnode-1\s+node-1\s+\S+\n/);
  kubectl.server.removeNode('node-3');
  await new Promise((r) => setTimeout(r, 50));
  const after = await kubectl('get', 'lease', 'node-3', '-n', 'kube-node-lease');
  assert.match(after.stderr, /NotFound/, 'the Lease goes with its Node');
});
