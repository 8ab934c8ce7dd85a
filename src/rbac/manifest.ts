// Turns a command's needs into objects for `kubectl apply -f -`: a ServiceAccount for CI, a ClusterRole
// for what is cluster-wide (reads, and cluster-scoped objects limited by name), a Role in each namespace
// for everything else (every write and exec), and their bindings to that ServiceAccount.
import type { KubeObject } from '../flannel/kube-object.ts';
import { LEGACY_NAMESPACE } from '../flannel/names.ts';
import type { Need, NeedsContext, PolicyRule, RbacCommand, RuleScope } from './needs.ts';
import { needsFor } from './needs.ts';

export interface RbacOptions extends NeedsContext {
  readonly command: RbacCommand;
  readonly serviceAccount: string;
  readonly serviceAccountNamespace: string;
}

/** An object of the manifest, with the reason for each of its rules (printed as YAML comments). */
export interface RbacObject {
  readonly object: KubeObject;
  readonly ruleComments?: readonly string[];
}

const RBAC_V1 = 'rbac.authorization.k8s.io/v1';
/** Namespaces every cluster has; anything else the manifest creates for the ServiceAccount. */
const BUILTIN_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
/** Pod Security admission: no privileged, hostNetwork, hostPath or added capabilities there. */
const BASELINE = { 'pod-security.kubernetes.io/enforce': 'baseline' };

const labels = (command: RbacCommand) => ({
  'app.kubernetes.io/managed-by': 'flannelctl',
  'flannelctl.io/for': command,
});

const namespaceOf = (scope: RuleScope, o: RbacOptions): string | undefined => {
  switch (scope) {
    case 'cluster':
      return undefined;
    case 'flannel':
      return o.namespace;
    case 'legacy':
      return LEGACY_NAMESPACE;
    case 'bench':
      return o.benchNamespace;
  }
};

/** Namespaces a command would create itself: pre-created by the manifest so Roles can live there. */
const createdNamespaces = (needs: readonly Need[]): string[] =>
  needs.filter((n) => n.createsScopeNamespace).flatMap((n) => n.rule.resourceNames ?? []);

const within = (inner: readonly string[] | undefined, outer: readonly string[] | undefined): boolean =>
  (inner ?? []).every((v) => (outer ?? []).includes(v));

/** `a` grants everything `b` does (no wildcards are used here). */
const coversRule = (a: PolicyRule, b: PolicyRule): boolean =>
  within(b.apiGroups, a.apiGroups) &&
  within(b.resources, a.resources) &&
  within(b.verbs, a.verbs) &&
  (!a.resourceNames || (b.resourceNames !== undefined && within(b.resourceNames, a.resourceNames)));

/**
 * In one role a rule can be covered by another (cluster-wide, a namespace's rule may equal a broader
 * one): drop it so every printed rule is needed, and keep its reason on the rule that covers it.
 */
const withoutCovered = (needs: readonly Need[]): Need[] => {
  const coveredBy = (i: number): number =>
    needs.findIndex(
      (other, j) =>
        j !== i &&
        coversRule(other.rule, needs[i]!.rule) &&
        (!coversRule(needs[i]!.rule, other.rule) || j < i),
    );
  const kept = new Map<number, Need>();
  needs.forEach((need, i) => {
    if (coveredBy(i) < 0) kept.set(i, need);
  });
  needs.forEach((need, i) => {
    const by = kept.get(coveredBy(i));
    if (by) kept.set(coveredBy(i), { ...by, why: `${by.why}; ${need.why}` });
  });
  return [...kept.values()];
};

export const buildRbacManifest = (o: RbacOptions): RbacObject[] => {
  const all = needsFor(o.command, o);
  const name = `flannelctl-${o.command}`;
  const meta = (namespace?: string) => ({
    name,
    ...(namespace ? { namespace } : {}),
    labels: labels(o.command),
  });
  const subject = { kind: 'ServiceAccount', name: o.serviceAccount, namespace: o.serviceAccountNamespace };
  const objects: RbacObject[] = [];
  const namespaceObject = (ns: string, extraLabels: Record<string, string> = {}): RbacObject => ({
    object: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { ...labels(o.command), ...extraLabels } },
    },
  });
  if (!BUILTIN_NAMESPACES.has(o.serviceAccountNamespace))
    objects.push(namespaceObject(o.serviceAccountNamespace));
  objects.push({
    object: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: o.serviceAccount, namespace: o.serviceAccountNamespace, labels: labels(o.command) },
    },
  });

  const byNamespace = new Map<string | undefined, Need[]>();
  const precreated = createdNamespaces(all);
  for (const need of all) {
    if (need.createsScopeNamespace) continue;
    const ns = namespaceOf(need.scope, o);
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), need]);
  }
  for (const [ns, needs] of byNamespace) byNamespace.set(ns, withoutCovered(needs));
  // A ClusterRoleBinding's rules apply in every namespace too: a namespace's rule they cover goes.
  const clusterWide = byNamespace.get(undefined) ?? [];
  for (const [ns, needs] of byNamespace) {
    if (ns === undefined) continue;
    byNamespace.set(
      ns,
      needs.filter((need) => {
        const i = clusterWide.findIndex((c) => coversRule(c.rule, need.rule));
        if (i >= 0) clusterWide[i] = { ...clusterWide[i]!, why: `${clusterWide[i]!.why}; ${need.why}` };
        return i < 0;
      }),
    );
    if (byNamespace.get(ns)!.length === 0) byNamespace.delete(ns);
  }
  for (const ns of precreated) {
    if (ns === o.serviceAccountNamespace || BUILTIN_NAMESPACES.has(ns)) continue;
    // bench's pods are ordinary ones: baseline Pod Security keeps its pod create from being node root.
    objects.push(namespaceObject(ns, ns === o.benchNamespace && ns !== o.namespace ? BASELINE : {}));
  }
  const rules = (needs: readonly Need[]): PolicyRule[] => needs.map((n) => n.rule);
  const comments = (needs: readonly Need[]): string[] => needs.map((n) => n.why);

  const cluster = byNamespace.get(undefined) ?? [];
  if (cluster.length > 0) {
    objects.push(
      {
        object: { apiVersion: RBAC_V1, kind: 'ClusterRole', metadata: meta(), rules: rules(cluster) },
        ruleComments: comments(cluster),
      },
      {
        object: {
          apiVersion: RBAC_V1,
          kind: 'ClusterRoleBinding',
          metadata: meta(),
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
          subjects: [subject],
        },
      },
    );
  }
  for (const [ns, needs] of byNamespace) {
    if (ns === undefined) continue;
    objects.push(
      {
        object: { apiVersion: RBAC_V1, kind: 'Role', metadata: meta(ns), rules: rules(needs) },
        ruleComments: comments(needs),
      },
      {
        object: {
          apiVersion: RBAC_V1,
          kind: 'RoleBinding',
          metadata: meta(ns),
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
          subjects: [subject],
        },
      },
    );
  }
  return objects;
};
