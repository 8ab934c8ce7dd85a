// What `rbac --for X` grants, as the emulator's RBAC authorizer evaluates it once applied: for every
// command and every --node-access mode, no pod, pods/exec or DaemonSet create outside the one namespace
// the command works in, no write of any namespaced resource anywhere else (nor cluster-wide), no secret
// read, and cluster-wide writes only for install's own cluster-scoped objects. The access reviews that
// `kubectl auth can-i` sends agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addCiUser, applyList, printedRbac } from '../helpers/rbac.ts';
import { seedNodes, startSimCluster } from '../helpers/sim.ts';
import { Authorizer, serviceAccountUser } from '../../src/sim/apiserver/authorizer.ts';
import type { ResourceAttributes } from '../../src/sim/apiserver/authorizer.ts';
import { RESOURCE_TYPES } from '../../src/sim/apiserver/resources.ts';

interface Case {
  readonly args: readonly string[];
  /** The one namespace this command may create pods or DaemonSets in (whose pods run there too). */
  readonly podNamespace?: string;
  readonly createsPods?: true;
  readonly execs?: true;
  readonly createsDaemonSets?: true;
}

const CASES: readonly Case[] = [
  { args: ['--for', 'doctor'] },
  { args: ['--for', 'doctor', '--node-access', 'ssh'] },
  {
    args: ['--for', 'doctor', '--node-access', 'kube-exec'],
    podNamespace: 'kube-flannel',
    createsPods: true,
    execs: true,
  },
  {
    args: ['--for', 'doctor', '--node-access', 'kube-exec', '-n', 'kube-system'],
    podNamespace: 'kube-system',
    createsPods: true,
    execs: true,
  },
  {
    args: ['--for', 'doctor', '--node-access', 'daemonset'],
    podNamespace: 'kube-flannel',
    createsDaemonSets: true,
  },
  { args: ['--for', 'migrate'] },
  // install creates only its own objects, by name: kube-flannel-ds, never an arbitrary DaemonSet or pod.
  { args: ['--for', 'install'] },
  { args: ['--for', 'install', '-n', 'kube-system'] },
  { args: ['--for', 'bench'], podNamespace: 'flannelctl-bench', createsPods: true },
  // The old opt-in flag is still accepted and changes nothing.
  {
    args: ['--for', 'doctor', '--node-access', 'kube-exec', '--namespace-scoped'],
    podNamespace: 'kube-flannel',
    createsPods: true,
    execs: true,
  },
];

const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
/** Namespaced resources, in the emulator and beyond (the authorizer needs no served type). */
const NAMESPACED: readonly { group: string; resource: string }[] = [
  ...RESOURCE_TYPES.filter((t) => t.namespaced && !t.virtual),
  { group: '', resource: 'secrets' },
  { group: '', resource: 'services' },
  { group: 'apps', resource: 'deployments' },
  { group: 'apps', resource: 'replicasets' },
  { group: 'apps', resource: 'statefulsets' },
  { group: 'batch', resource: 'jobs' },
  { group: 'batch', resource: 'cronjobs' },
];
const POD_SUBRESOURCES = ['exec', 'attach', 'portforward', 'ephemeralcontainers', 'eviction'];

test('rbac --for X denies pods/exec, pod and DaemonSet create outside its namespace, for every X and --node-access', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-rbac-scope-'));
  for (const c of CASES) {
    const label = c.args.join(' ');
    // A cluster of its own per case: the roles of one case do not leak into the next.
    const sim = await startSimCluster({ nodes: seedNodes(2) });
    t.after(() => sim.close());
    const list = await printedRbac(c.args);
    // Flannel's namespace exists where flannel runs (install's manifest creates it itself).
    if (!sim.api.get('namespaces', undefined, 'kube-flannel'))
      sim.api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-flannel' } });
    applyList(sim.api, list);
    const ci = await addCiUser(sim.api, dir);
    const authorizer = new Authorizer(sim.api.store);
    const user = serviceAccountUser('ci', 'flannelctl', '');
    const can = (a: ResourceAttributes) => authorizer.authorize(user, a);
    const elsewhere = [
      'default',
      'kube-system',
      'kube-public',
      'tenant-a',
      'flannelctl-bench',
      'kube-flannel',
    ]
      .filter((ns) => ns !== c.podNamespace)
      .map((ns): string | undefined => ns);
    elsewhere.push(undefined); // every namespace at once (a ClusterRoleBinding's reach)

    for (const ns of elsewhere) {
      const where = `${label}: in ${ns ?? 'every namespace'}`;
      for (const name of [undefined, 'x', 'kube-flannel-ds']) {
        const at = { ...(ns ? { namespace: ns } : {}), ...(name ? { name } : {}) };
        assert.equal(
          can({ verb: 'create', group: '', resource: 'pods', ...at }),
          false,
          `${where}: create pods`,
        );
        for (const sub of POD_SUBRESOURCES)
          for (const verb of ['create', 'get', 'update', 'patch'])
            assert.equal(
              can({ verb, group: '', resource: 'pods', subresource: sub, ...at }),
              false,
              `${where}: ${verb} pods/${sub}`,
            );
      }
      for (const r of NAMESPACED)
        for (const verb of WRITE_VERBS) {
          // install may apply its own objects in flannel's namespace, by name only.
          if (
            label.startsWith('--for install') &&
            ns === (label.includes('kube-system') ? 'kube-system' : 'kube-flannel')
          )
            continue;
          assert.equal(
            can({ verb, group: r.group, resource: r.resource, ...(ns ? { namespace: ns } : {}) }),
            false,
            `${where}: ${verb} ${r.resource}`,
          );
        }
      for (const verb of ['get', 'list', 'watch'])
        assert.equal(can({ verb, group: '', resource: 'secrets', ...(ns ? { namespace: ns } : {}) }), false);
    }

    if (c.podNamespace) {
      const at = { namespace: c.podNamespace };
      assert.equal(
        can({ verb: 'create', group: '', resource: 'pods', ...at }),
        c.createsPods === true,
        `${label}: create pods`,
      );
      assert.equal(
        can({ verb: 'create', group: '', resource: 'pods', subresource: 'exec', ...at, name: 'p' }),
        c.execs === true,
        `${label}: pods/exec`,
      );
      assert.equal(
        can({ verb: 'create', group: 'apps', resource: 'daemonsets', ...at }),
        c.createsDaemonSets === true,
        `${label}: create daemonsets`,
      );
    }

    // Cluster-wide writes: none, but install's own cluster-scoped objects (by name) and flanneld's
    // nodes/status patch, which Kubernetes only lets it grant flanneld by holding it.
    const clusterRole = list.items.find((o) => o.kind === 'ClusterRole') as
      { rules: { resources: string[]; verbs: string[]; resourceNames?: string[] }[] } | undefined;
    for (const rule of clusterRole?.rules ?? []) {
      const writes = rule.verbs.filter((v) => !['get', 'list', 'watch'].includes(v));
      if (writes.length === 0) continue;
      assert.ok(
        label.startsWith('--for install'),
        `${label}: cluster-wide ${writes.join(',')} ${rule.resources.join(',')}`,
      );
      assert.ok(
        rule.resourceNames?.length || rule.resources.join() === 'nodes/status',
        `${label}: cluster-wide ${writes.join(',')} ${rule.resources.join(',')} without resourceNames`,
      );
    }

    // `kubectl auth can-i` asks the same authorizer through a SelfSubjectAccessReview.
    const canI = async (attrs: Record<string, string>) => {
      const res = await fetch(`${sim.api.url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${ci.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          kind: 'SelfSubjectAccessReview',
          apiVersion: 'authorization.k8s.io/v1',
          spec: { resourceAttributes: attrs },
        }),
      });
      return ((await res.json()) as { status: { allowed: boolean } }).status.allowed;
    };
    assert.equal(
      await canI({
        verb: 'create',
        resource: 'pods',
        subresource: 'exec',
        namespace: 'kube-system',
        name: 'p',
      }),
      c.execs === true && c.podNamespace === 'kube-system',
    );
    assert.equal(await canI({ verb: 'create', resource: 'pods', namespace: 'default' }), false);
    if (c.podNamespace)
      assert.equal(
        await canI({ verb: 'create', resource: 'pods', namespace: c.podNamespace }),
        c.createsPods === true,
        label,
      );
  }
});
