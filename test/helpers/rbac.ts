// RBAC helpers for end-to-end tests: what a command asked the API for, and a CI ServiceAccount user
// whose kubeconfig the command then runs with.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from './cli.ts';
import type { KubeObject } from '../../src/sim/cluster-seed.ts';
import type { ApiServer, RequestRecord } from '../../src/sim/apiserver/index.ts';
import { serviceAccountUser } from '../../src/sim/apiserver/index.ts';
import { resourceByName } from '../../src/sim/apiserver/resources.ts';

/** The API group of a resource path: '' for /api/v1, else the segment after /apis. */
export const groupOfPath = (path: string): string =>
  path.startsWith('/apis/') ? (path.split('/')[2] ?? '') : '';

/**
 * The distinct "verb group resource namespace" tuples of the resource requests `user` made (all users
 * when omitted), sorted: the raw material of a least-privilege role.
 */
export const accessTuples = (records: readonly RequestRecord[], user?: string): string[] =>
  [
    ...new Set(
      records
        .filter((r) => r.verb !== undefined && (user === undefined || r.user === user))
        .map((r) => `${r.verb} ${groupOfPath(r.path) || '""'} ${r.resource} ${r.namespace ?? '(cluster)'}`),
    ),
  ].sort();

export interface CiUser {
  readonly name: string;
  readonly token: string;
  readonly kubeconfig: string;
}

/** Adds the ServiceAccount ci/flannelctl as a token user and writes a kubeconfig for it into `dir`. */
export const addCiUser = async (
  api: ApiServer,
  dir: string,
  namespace = 'ci',
  name = 'flannelctl',
): Promise<CiUser> => {
  const user = serviceAccountUser(namespace, name, `${namespace}-${name}-token`);
  api.addUser(user);
  const kubeconfig = join(dir, `kubeconfig-${namespace}-${name}`);
  await api.writeKubeconfig(kubeconfig, { user: user.name, token: user.token });
  return { name: user.name, token: user.token, kubeconfig };
};

/** What `flannelctl rbac ARGS --sa-namespace ci -o json` prints (the CI identity is ci/flannelctl). */
export const printedRbac = async (
  args: readonly string[],
): Promise<{ kind: string; items: KubeObject[] }> => {
  const r = await runCli(['rbac', ...args, '--sa-namespace', 'ci', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { kind: string; items: KubeObject[] };
};

/** Creates every item of a printed v1 List as the admin would with `kubectl apply -f -`. */
export const applyList = (api: ApiServer, list: { items: KubeObject[] }): void => {
  for (const item of list.items) {
    const existing = api.get(
      resourceOf(item.kind ?? ''),
      item.metadata?.namespace,
      item.metadata?.name ?? '',
    );
    if (!existing) api.create(item);
  }
};

const resourceOf = (kind: string): string =>
  ({
    Namespace: 'namespaces',
    ServiceAccount: 'serviceaccounts',
    ClusterRole: 'clusterroles',
    ClusterRoleBinding: 'clusterrolebindings',
    Role: 'roles',
    RoleBinding: 'rolebindings',
  })[kind] ?? `${kind.toLowerCase()}s`;

export interface PrintedRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
  readonly resourceNames?: string[];
}

export interface PrintedRole {
  readonly kind: 'ClusterRole' | 'Role';
  readonly name: string;
  readonly namespace?: string;
  readonly rules: PrintedRule[];
}

/** The ClusterRole and Roles of a printed manifest, in print order. */
export const printedRoles = (list: { items: KubeObject[] }): PrintedRole[] =>
  list.items
    .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
    .map((o) => ({
      kind: o.kind as PrintedRole['kind'],
      name: o.metadata?.name ?? '',
      ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
      rules: (o as { rules?: PrintedRule[] }).rules ?? [],
    }));

/**
 * Replaces an applied role with the same role less its rule `index`, as an admin's edit would; the
 * returned function puts the printed rules back.
 */
export const withoutRule = (api: ApiServer, role: PrintedRole, index: number): (() => void) => {
  const resource = role.kind === 'Role' ? 'roles' : 'clusterroles';
  const setRules = (rules: PrintedRule[]) => {
    const current = api.get(resource, role.namespace, role.name)!;
    api.registry.update(
      resourceByName(resource),
      role.namespace,
      role.name,
      { ...current, rules },
      { manager: 'test' },
    );
  };
  setRules(role.rules.filter((_, j) => j !== index));
  return () => setRules(role.rules);
};

/**
 * Whether a command's output reports the 403 of a request `rule` would have allowed (the API's own
 * wording, flannelctl's "may not VERB RESOURCE", or a role write that escalation refused).
 */
export const namesPermission = (
  out: string,
  user: string,
  rule: { resources: string[]; verbs: string[] },
): boolean =>
  rule.verbs.some((v) =>
    rule.resources.some(
      (res) =>
        out.includes(`User \\"${user}\\" cannot ${v} resource \\"${res}\\"`) ||
        out.includes(`User "${user}" cannot ${v} resource "${res}"`) ||
        new RegExp(`may not ${v} ${res}( |$|[;\\]])`, 'm').test(out) ||
        (out.includes('attempting to grant RBAC permissions not currently held') &&
          out.includes(`Resources:["${res}"]`)),
    ),
  );
