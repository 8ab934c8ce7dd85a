// The adapter over @kubernetes/client-node. It is imported lazily (dynamic import) because client-node
// costs ~660 ms to load: commands that never talk to the API must not pay for it.
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
} from '@kubernetes/client-node';
import type { KubeClient, PatchType } from './client.ts';
import { isNotFound, toKubeError } from './api-errors.ts';
import { displayName, refOf, type KubeObject, type ObjectRef } from './kube-object.ts';
import { execInPod } from './pod-exec.ts';
import { withRetry } from './retry.ts';
import { loadKubeConfig, type KubeconfigSelection } from './kubeconfig.ts';

const STRATEGY: Record<PatchType, PatchStrategy> = {
  strategic: PatchStrategy.StrategicMergePatch,
  merge: PatchStrategy.MergePatch,
};

const asSpec = (ref: ObjectRef): KubeObject => ({
  apiVersion: ref.apiVersion,
  kind: ref.kind,
  metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
});

export const createClientNodeKube = (sel: KubeconfigSelection, env: NodeJS.ProcessEnv): KubeClient => {
  const kc = loadKubeConfig(KubeConfig, sel, env);
  const server = kc.getCurrentCluster()?.server ?? 'unknown server';
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(CoreV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const version = kc.makeApiClient(VersionApi);
  const dry = (o?: { dryRun?: boolean }) => (o?.dryRun ? 'All' : undefined);

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await withRetry(fn);
    } catch (error) {
      throw toKubeError(error, what, server);
    }
  };

  return {
    server,
    serverVersion: () => call('get server version', async () => (await version.getCode()).gitVersion),
    get: async <T extends KubeObject>(ref: ObjectRef) => {
      try {
        return (await withRetry(() => objects.read(asSpec(ref)))) as unknown as T;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw toKubeError(error, `get ${displayName(ref)}`, server);
      }
    },
    list: <T extends KubeObject>(
      apiVersion: string,
      kind: string,
      o: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
    ) =>
      call(`list ${kind}`, async () => {
        const result = await objects.list(
          apiVersion,
          kind,
          o.namespace,
          undefined,
          undefined,
          undefined,
          o.fieldSelector,
          o.labelSelector,
        );
        return result.items as unknown as T[];
      }),
    create: <T extends KubeObject>(object: KubeObject) =>
      call(
        `create ${displayName(refOf(object))}`,
        async () => (await objects.create(object, undefined, undefined, 'flannelctl')) as unknown as T,
      ),
    apply: <T extends KubeObject>(
      object: KubeObject,
      o: { fieldManager: string; force?: boolean; dryRun?: boolean },
    ) =>
      call(
        `apply ${displayName(refOf(object))}`,
        async () =>
          (await objects.patch(
            object,
            undefined,
            dry(o),
            o.fieldManager,
            o.force ?? false,
            PatchStrategy.ServerSideApply,
          )) as unknown as T,
      ),
    patch: <T extends KubeObject>(ref: ObjectRef, body: unknown, type: PatchType, o?: { dryRun?: boolean }) =>
      call(`patch ${displayName(ref)}`, async () => {
        // The generic client builds the URL from the body's apiVersion/kind/metadata, so they ride along.
        const patch = body as Partial<KubeObject>;
        const spec = {
          ...patch,
          ...asSpec(ref),
          metadata: { ...patch.metadata, ...asSpec(ref).metadata },
        } as KubeObject;
        return (await objects.patch(
          spec,
          undefined,
          dry(o),
          'flannelctl',
          undefined,
          STRATEGY[type],
        )) as unknown as T;
      }),
    replace: <T extends KubeObject>(object: KubeObject, o?: { dryRun?: boolean }) =>
      call(
        `replace ${object.kind.toLowerCase()}/${object.metadata.name}`,
        async () => (await objects.replace(object, undefined, dry(o), 'flannelctl')) as unknown as T,
      ),
    delete: (ref: ObjectRef, o?: { dryRun?: boolean }) =>
      call(`delete ${displayName(ref)}`, async () => {
        try {
          await objects.delete(asSpec(ref), undefined, dry(o));
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }),
    canI: (check) =>
      call(`check permission to ${check.verb} ${check.resource}`, async () => {
        const review = await authz.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                verb: check.verb,
                group: check.group,
                resource: check.resource,
                namespace: check.namespace,
                ...(check.name ? { name: check.name } : {}),
              },
            },
          },
        });
        return { allowed: review.status?.allowed ?? false, reason: review.status?.reason };
      }),
    podLog: (namespace, name, o = {}) =>
      call(`get logs of pod ${namespace}/${name}`, () =>
        core.readNamespacedPodLog({ namespace, name, container: o.container, tailLines: o.tailLines }),
      ),
    exec: (request) => execInPod(kc, server, request),
  };
};
