// RBAC as Kubernetes' authorizer evaluates it: the rules of every ClusterRoleBinding, and of every
// RoleBinding in the request's namespace, whose subjects match the user; allowed when one rule covers
// the request (kubernetes plugin/pkg/auth/authorizer/rbac/rbac.go, rule resolution in
// pkg/registry/rbac/validation/rule.go). Also the escalation check the RBAC storage runs on role and binding writes.
import type { KubeObject } from '../cluster-seed.ts';
import type { Store } from './store.ts';
import { resourceByName } from './resources.ts';

export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

/** A user the emulator authenticates by bearer token. */
export interface SimUser extends UserInfo {
  readonly token: string;
}

export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

/** What a resource request asks for, as the apiserver's RequestInfo resolves it. */
export interface ResourceAttributes {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly namespace?: string;
  readonly name?: string;
}

interface Subject {
  kind?: string;
  name?: string;
  namespace?: string;
}

interface RoleRef {
  kind?: string;
  name?: string;
}

/** The identity a ServiceAccount token authenticates as, with the groups the real server adds. */
export const serviceAccountUser = (namespace: string, name: string, token: string): SimUser => ({
  token,
  name: `system:serviceaccount:${namespace}:${name}`,
  groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
});

/**
 * What the bootstrap roles system:basic-user and system:discovery give every authenticated user: access
 * reviews about themselves. Hard-wired so tests need not seed them (discovery paths are not authorized).
 */
const AUTHENTICATED_RULES: readonly PolicyRule[] = [
  {
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
    verbs: ['create'],
  },
];

const ROLES = resourceByName('roles');
const CLUSTER_ROLES = resourceByName('clusterroles');
const ROLE_BINDINGS = resourceByName('rolebindings');
const CLUSTER_ROLE_BINDINGS = resourceByName('clusterrolebindings');

const has = (list: readonly string[] | undefined, value: string): boolean =>
  (list ?? []).some((v) => v === '*' || v === value);

// "*", the exact "pods/log" and "*/log" cover pods/log; "pods" and "pods/*" do not
// (ResourceMatches in kubernetes pkg/apis/rbac/v1/evaluation_helpers.go).
const resourceMatches = (rule: PolicyRule, resource: string, subresource: string | undefined): boolean => {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (subresource !== undefined && r === `*/${subresource}`),
  );
};

/** rbac/v1 RuleAllows: verb, group, resource (with subresource) and, when listed, the object's name. */
export const ruleAllows = (rule: PolicyRule, a: ResourceAttributes): boolean =>
  has(rule.verbs, a.verb) &&
  has(rule.apiGroups, a.group) &&
  resourceMatches(rule, a.resource, a.subresource) &&
  (!rule.resourceNames?.length || (a.name !== undefined && rule.resourceNames.includes(a.name)));

const subjectMatches = (s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean => {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return s.name !== undefined && user.groups.includes(s.name);
    case 'ServiceAccount': {
      // A ServiceAccount subject of a RoleBinding defaults to the binding's namespace.
      const ns = s.namespace || bindingNamespace;
      return user.name === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
};

const rulesOf = (role: KubeObject | undefined): PolicyRule[] =>
  ((role as { rules?: PolicyRule[] } | undefined)?.rules ?? []).filter((r) => Array.isArray(r.verbs));

/** Escalation messages print missing rules like Go's %+v of a compacted PolicyRule. */
export const describeRule = (r: PolicyRule): string => {
  const list = (l: readonly string[]) => `[${l.map((v) => JSON.stringify(v)).join(' ')}]`;
  const parts: string[] = [];
  if (r.apiGroups) parts.push(`APIGroups:${list(r.apiGroups)}`);
  if (r.resources) parts.push(`Resources:${list(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${list(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${list(r.nonResourceURLs)}`);
  parts.push(`Verbs:${list(r.verbs)}`);
  return `{${parts.join(', ')}}`;
};

/** One rule per (group, resource, name, verb): the unit the escalation check compares. */
const breakdown = (rule: PolicyRule): PolicyRule[] => {
  const out: PolicyRule[] = [];
  const names = rule.resourceNames?.length ? rule.resourceNames.map((n) => [n]) : [undefined];
  for (const group of rule.apiGroups ?? [])
    for (const resource of rule.resources ?? [])
      for (const name of names)
        for (const verb of rule.verbs)
          out.push({
            apiGroups: [group],
            resources: [resource],
            verbs: [verb],
            ...(name ? { resourceNames: name } : {}),
          });
  return out;
};

/**
 * ruleCovers of kubernetes pkg/registry/rbac/validation/policy_comparator.go, for one broken-down rule:
 * each of verb, group and resource is held as '*' or exactly (no subresource wildcards here), and
 * a rule without resourceNames is covered only by one without them.
 */
const covers = (owner: PolicyRule, wanted: PolicyRule): boolean => {
  const names = wanted.resourceNames ?? [];
  return (
    has(owner.verbs, wanted.verbs[0]!) &&
    has(owner.apiGroups, wanted.apiGroups![0]!) &&
    has(owner.resources, wanted.resources![0]!) &&
    (!owner.resourceNames?.length ||
      (names.length > 0 && names.every((n) => owner.resourceNames!.includes(n))))
  );
};

export class Authorizer {
  constructor(private readonly store: Store) {}

  /** Every rule the user holds in `namespace` (cluster-wide rules only when undefined). */
  rulesFor(user: UserInfo, namespace: string | undefined): PolicyRule[] {
    const rules: PolicyRule[] = [];
    if (user.groups.includes('system:authenticated')) rules.push(...AUTHENTICATED_RULES);
    for (const b of this.store.list(CLUSTER_ROLE_BINDINGS)) {
      if (this.bound(b, user, undefined)) rules.push(...rulesOf(this.role(b, undefined)));
    }
    if (namespace) {
      for (const b of this.store.list(ROLE_BINDINGS, namespace)) {
        if (this.bound(b, user, namespace)) rules.push(...rulesOf(this.role(b, namespace)));
      }
    }
    return rules;
  }

  authorize(user: UserInfo, a: ResourceAttributes): boolean {
    return this.rulesFor(user, a.namespace).some((r) => ruleAllows(r, a));
  }

  /** The rules of `wanted` the user does not hold in `namespace`: what granting them would escalate. */
  missingRules(user: UserInfo, namespace: string | undefined, wanted: readonly PolicyRule[]): PolicyRule[] {
    const held = this.rulesFor(user, namespace);
    return wanted.flatMap(breakdown).filter((w) => !held.some((h) => covers(h, w)));
  }

  /** The rules a binding's roleRef grants, resolved in the binding's namespace. */
  roleRules(roleRef: RoleRef, namespace: string | undefined): PolicyRule[] {
    return rulesOf(this.role({ roleRef } as KubeObject, namespace));
  }

  roleExists(roleRef: RoleRef, namespace: string | undefined): boolean {
    return this.role({ roleRef } as KubeObject, namespace) !== undefined;
  }

  private bound(binding: KubeObject, user: UserInfo, namespace: string | undefined): boolean {
    const subjects = (binding as { subjects?: Subject[] }).subjects ?? [];
    return subjects.some((s) => subjectMatches(s, user, namespace));
  }

  private role(binding: KubeObject, namespace: string | undefined): KubeObject | undefined {
    const ref = (binding as { roleRef?: RoleRef }).roleRef;
    if (!ref?.name) return undefined;
    if (ref.kind === 'ClusterRole') return this.store.get(CLUSTER_ROLES, undefined, ref.name);
    if (ref.kind === 'Role' && namespace) return this.store.get(ROLES, namespace, ref.name);
    return undefined;
  }
}
