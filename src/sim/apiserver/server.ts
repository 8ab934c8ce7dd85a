// startApiServer(): the in-process Kubernetes API emulator, with its controllers, hooks, faults
// and request log.
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClusterSeed, KubeObject, SeedNode } from '../cluster-seed.ts';
import type { SimUser } from './authorizer.ts';
import { Authorizer } from './authorizer.ts';
import { DaemonSetController } from './daemonset-controller.ts';
import { Faults } from './faults.ts';
import type { KubeconfigOptions } from './kubeconfig.ts';
import { kubeconfigYaml, writeKubeconfig } from './kubeconfig.ts';
import type { ContainerExit, PodHook } from './kubelet.ts';
import { Kubelet } from './kubelet.ts';
import { PodExecServer, type NodeExecHandler } from './pod-exec.ts';
import { PodLogs } from './pod-logs.ts';
import { Registry } from './registry.ts';
import { RequestLog } from './request-log.ts';
import type { ResourceType } from './resources.ts';
import { findResourceByKind, resourceByName } from './resources.ts';
import { createHandler } from './routes.ts';
import { startNamespaceController } from './namespace-controller.ts';
import { startNodeLeaseController } from './node-lease-controller.ts';
import { nodeObject, seedCluster } from './seed.ts';
import { parseLabelSelector } from './selectors.ts';
import { Store } from './store.ts';
import { Users } from './users.ts';

export interface ApiServerOptions {
  readonly seed?: ClusterSeed;
  /** 0 (any free port) by default. */
  readonly port?: number;
  /** Bearer token clients must present when they send one; 'flannelctl-sim-token' by default. */
  readonly token?: string;
  /** The admin token's user, named in Forbidden messages; 'kubernetes-admin' by default. */
  readonly user?: string;
  /** More users by token, e.g. serviceAccountUser('ci', 'flannelctl', token); RBAC objects decide what they may do. */
  readonly users?: readonly SimUser[];
  /** How long a started pod takes to become Ready; 100 ms by default. */
  readonly readyDelayMs?: number;
  /** kubelet's backoff before it tries a failed pod sandbox again; 10 s (its pod worker's) by default. */
  readonly sandboxRetryMs?: number;
  /** Changes kept for watches to resume from; older resourceVersions get 410 Expired. 50,000 by default. */
  readonly watchHistory?: number;
}

export interface ApiServer {
  readonly url: string;
  readonly token: string;
  readonly store: Store;
  readonly registry: Registry;
  readonly faults: Faults;
  /** Every request served, in order. */
  readonly requests: RequestLog;
  /** Authenticates `user.token` as that user from now on; its requests are authorized by RBAC. */
  addUser(user: SimUser): void;
  /** Runs when a pod bound to a node starts; a returned promise holds readiness, a rejection denies it. */
  onPodStarted(hook: PodHook): () => void;
  onPodDeleted(hook: PodHook): () => void;
  /** Runs pods/exec into pods on this node (its model, or its lab namespace); returns the unregister function. */
  onNodeExec(node: string, handler: NodeExecHandler): () => void;
  /** The handler registered for the node, for a container that runs its own command there. */
  nodeExecHandler(node: string): NodeExecHandler | undefined;
  /** The pod's container exited (a runner ran it for real): final phase and exit code, as a kubelet reports. */
  podExited(namespace: string, name: string, uid: string, exit: ContainerExit): Promise<void>;
  /** Adds to what `kubectl logs` shows for the pod (first container unless named). */
  appendPodLog(namespace: string, name: string, text: string, container?: string): void;
  /** Reads a stored object; undefined when absent. `resource` is the plural, e.g. 'daemonsets'. */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(resource: string, namespace?: string, labelSelector?: string): KubeObject[];
  /** Creates any served object (typed by apiVersion/kind) as a client would, bypassing faults. */
  create(obj: KubeObject): KubeObject;
  addNode(node: SeedNode): KubeObject;
  removeNode(name: string): void;
  kubeconfig(options?: KubeconfigOptions): string;
  writeKubeconfig(path: string, options?: KubeconfigOptions): Promise<void>;
  close(): Promise<void>;
}

export const startApiServer = async (options: ApiServerOptions = {}): Promise<ApiServer> => {
  const store = new Store(options.watchHistory);
  const registry = new Registry(store);
  const faults = new Faults();
  const requests = new RequestLog();
  const podLogs = new PodLogs();
  const token = options.token ?? 'flannelctl-sim-token';
  const users = new Users(token, options.user ?? 'kubernetes-admin');
  for (const u of options.users ?? []) users.add(u);
  const watches = new Set<ServerResponse>();
  const kubelet = new Kubelet(store, registry, {
    readyDelayMs: options.readyDelayMs ?? 100,
    neverReady: (node) => faults.isNeverReady(node),
    sandboxRetryMs: options.sandboxRetryMs ?? 10_000,
  });
  const daemonSets = new DaemonSetController(store, registry);
  kubelet.deletedHooks.add((pod) => podLogs.forget(pod.metadata!.uid!));
  const stopNamespaces = startNamespaceController(store, registry);
  seedCluster(registry, options.seed ?? { nodes: [] });
  const stopLeases = startNodeLeaseController(store, registry);

  let address = '127.0.0.1:0';
  const handlerContext = {
    store,
    registry,
    faults,
    log: requests,
    podLogs,
    users,
    authorizer: new Authorizer(store),
    serverAddress: () => address,
    watches,
  };
  const handler = createHandler(handlerContext);
  const podExec = new PodExecServer(handlerContext);
  const http = createServer((req, res) => void handler(req, res));
  http.on('upgrade', (req, socket, head: Buffer) => podExec.upgrade(req, socket, head));
  http.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const url = `http://${address}`;
  const PODS = resourceByName('pods');
  const NODES = resourceByName('nodes');
  const typeOf = (obj: KubeObject): ResourceType => {
    const t = findResourceByKind(obj.apiVersion ?? '', obj.kind ?? '');
    if (!t || t.virtual) throw new Error(`${obj.apiVersion}/${obj.kind} is not served by the emulator`);
    return t;
  };
  let closed = false;

  return {
    url,
    token,
    store,
    registry,
    faults,
    requests,
    addUser: (user) => users.add(user),
    onPodStarted: (hook) => {
      kubelet.startedHooks.add(hook);
      return () => kubelet.startedHooks.delete(hook);
    },
    onPodDeleted: (hook) => {
      kubelet.deletedHooks.add(hook);
      return () => kubelet.deletedHooks.delete(hook);
    },
    onNodeExec: (node, execHandler) => podExec.register(node, execHandler),
    nodeExecHandler: (node) => podExec.handlerFor(node),
    podExited: (namespace, name, uid, exit) => kubelet.containerExited(namespace, name, uid, exit),
    appendPodLog: (namespace, name, text, container) => {
      const pod = store.get(PODS, namespace, name);
      if (!pod) throw new Error(`no pod ${namespace}/${name}`);
      const first = (pod.spec as { containers?: { name: string }[] }).containers?.[0]?.name ?? '';
      podLogs.append(pod.metadata!.uid!, container ?? first, text);
    },
    get: (resource, namespace, name) => {
      const t = resourceByName(resource);
      return store.get(t, t.namespaced ? namespace : undefined, name);
    },
    list: (resource, namespace, labelSelector) =>
      registry.list(resourceByName(resource), namespace, {
        labelSelector: parseLabelSelector(labelSelector),
      }),
    create: (obj) => {
      const t = typeOf(obj);
      return registry.create(t, t.namespaced ? (obj.metadata?.namespace ?? 'default') : undefined, obj, {
        manager: 'test',
      });
    },
    addNode: (node) => registry.create(NODES, undefined, nodeObject(node), { manager: 'kubelet' }),
    removeNode: (name) => void registry.delete(NODES, undefined, name),
    kubeconfig: (o) => kubeconfigYaml(url, o?.token ?? token, o),
    writeKubeconfig: (path, o) => writeKubeconfig(path, url, o?.token ?? token, o),
    close: async () => {
      if (closed) return;
      closed = true;
      daemonSets.stop();
      stopNamespaces();
      stopLeases();
      kubelet.stop();
      for (const res of watches) res.end();
      podExec.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
};
