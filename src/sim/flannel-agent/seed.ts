// A simulated flannel cluster in a few lines: nodes (from a lab or given) seeded into the API emulator
// with a rendered flannel install, an agent per node, and a wait until every flannel pod is Ready.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '../../lab/types.ts';
import { renderManifest } from '../../flannel/manifest.ts';
import type { BackendPreset } from '../../flannel/manifest-options.ts';
import type { AnyBackend } from '../../flannel/net-conf.ts';
import { APP_LABEL, FLANNEL_NAMESPACE } from '../../flannel/names.ts';
import type { ClusterSeed, KubeObject, SeedNode } from '../cluster-seed.ts';
import { isPodReady, startApiServer } from '../apiserver/index.ts';
import type { ApiServer, NodeExecHandler } from '../apiserver/index.ts';
import { labNodeExec, virtualNodeExec } from '../node-exec.ts';
import { runNodeAccessPods } from '../node-access-pods.ts';
import { startFlannelAgents } from './agent.ts';
import type { FlannelAgents } from './agent.ts';
import type { Dataplane } from './dataplane.ts';
import { LabDataplane } from './lab-dataplane.ts';
import { VirtualNode } from '../virtual-node/model.ts';
import { VirtualDataplane, describeVirtualNode } from './virtual-dataplane.ts';
import { LAB_RUNTIME, VIRTUAL_RUNTIME } from '../../kube/node-runtime.ts';
import { FLANNELCTL_VERSION } from '../../version.ts';

export interface SimulatedNode {
  readonly name: string;
  /** InternalIP, the address flanneld announces. */
  readonly address: string;
  readonly podCidr: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** What the node reports as its container runtime (`kubectl get nodes -o wide`). */
  readonly containerRuntimeVersion?: string;
  readonly dataplane: Dataplane;
  /** Runs pods/exec into pods on this node (kube-exec node access). */
  readonly exec?: NodeExecHandler;
}

export interface FlannelInstallOptions {
  readonly backend: BackendPreset | AnyBackend;
  /** net-conf.json Network; default 10.244.0.0/16. */
  readonly network?: string;
  /** Default kube-flannel. */
  readonly namespace?: string;
}

/** The lab's nodes as simulated nodes: InternalIP = node address, podCIDR = 10.244.N.0/24. */
export const labNodes = (lab: Lab): SimulatedNode[] =>
  lab.nodes.map((node): SimulatedNode => ({
    name: node.name,
    address: node.address,
    podCidr: node.podCidr,
    ...(node.remote ? { labels: { 'flannelctl.sim/lab-remote': 'true' } } : {}),
    containerRuntimeVersion: `${LAB_RUNTIME}://${FLANNELCTL_VERSION}`,
    dataplane: new LabDataplane(lab, node),
    exec: labNodeExec(node),
  }));

/** Virtual nodes (e.g. a fleet's) as simulated nodes: InternalIP = eth0's address, podCIDR = cni0's subnet. */
export const virtualNodes = (nodes: readonly VirtualNode[]): SimulatedNode[] =>
  nodes.map((node) => ({
    ...describeVirtualNode(node),
    containerRuntimeVersion: `${VIRTUAL_RUNTIME}://${FLANNELCTL_VERSION}`,
    dataplane: new VirtualDataplane(node),
    exec: virtualNodeExec(node),
  }));

/** Nodes plus a rendered flannel install, for startApiServer({ seed }). */
export const flannelClusterSeed = (
  nodes: readonly Omit<SimulatedNode, 'dataplane'>[],
  install: FlannelInstallOptions,
): ClusterSeed => ({
  nodes: nodes.map((n): SeedNode => ({
    name: n.name,
    internalIP: n.address,
    podCIDR: n.podCidr,
    ...(n.labels ? { labels: n.labels } : {}),
    ...(n.containerRuntimeVersion ? { containerRuntimeVersion: n.containerRuntimeVersion } : {}),
  })),
  objects: renderManifest({
    backend: install.backend,
    ...(install.network ? { network: install.network } : {}),
    ...(install.namespace ? { namespace: install.namespace } : {}),
  }) as KubeObject[],
});

export interface SimulatedFlannelOptions extends FlannelInstallOptions {
  /** Either a lab (every node gets a LabDataplane), virtual nodes, or nodes with their dataplanes. */
  readonly lab?: Lab;
  readonly nodes?: readonly (SimulatedNode | VirtualNode)[];
  /** Pod readiness delay of the emulator's kubelet; default 20 ms. */
  readonly readyDelayMs?: number;
  /** kubelet's backoff before a failed pod sandbox is tried again; default 10 s. */
  readonly sandboxRetryMs?: number;
  readonly routeCheckIntervalMs?: number;
  readonly logger?: (nodeName: string, line: string) => void;
  /** How long to wait for every flannel pod to be Ready; default 30 s. */
  readonly timeoutMs?: number;
}

export interface SimulatedFlannel {
  readonly api: ApiServer;
  /** A kubeconfig file for kubectl / flannelctl. */
  readonly kubeconfig: string;
  readonly agents: FlannelAgents;
  readonly nodes: readonly SimulatedNode[];
  readonly namespace: string;
  close(): Promise<void>;
}

/** The flannel pods and whether each is Ready, by node. */
export const flannelPodStates = (api: ApiServer, namespace: string): Map<string, boolean> => {
  const states = new Map<string, boolean>();
  for (const pod of api.list('pods', namespace, `app=${APP_LABEL.app}`)) {
    if (pod.metadata?.deletionTimestamp) continue;
    const node = (pod.spec as { nodeName?: string }).nodeName;
    if (node) states.set(node, isPodReady(pod));
  }
  return states;
};

/** Waits until every node has a Ready flannel pod and the agents have handled all events. */
export const waitForFlannelReady = async (
  api: ApiServer,
  agents: FlannelAgents,
  nodeNames: readonly string[],
  namespace: string,
  timeoutMs = 30_000,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = flannelPodStates(api, namespace);
    if (nodeNames.every((n) => states.get(n) === true)) break;
    if (Date.now() > deadline) {
      const waiting = nodeNames.filter((n) => states.get(n) !== true);
      throw new Error(`flannel pods not Ready on ${waiting.join(', ')} after ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  await agents.idle();
};

export const startSimulatedFlannel = async (options: SimulatedFlannelOptions): Promise<SimulatedFlannel> => {
  const nodes = options.nodes
    ? options.nodes.map((n) => (n instanceof VirtualNode ? virtualNodes([n])[0]! : n))
    : options.lab
      ? labNodes(options.lab)
      : undefined;
  if (!nodes || nodes.length === 0) throw new Error('startSimulatedFlannel: give a lab or nodes');
  const namespace = options.namespace ?? FLANNEL_NAMESPACE;
  const seed = flannelClusterSeed(nodes, options);
  // The DaemonSet is created after the agents subscribe, so no flannel pod starts unseen.
  const daemonSets = seed.objects!.filter((o) => o.kind === 'DaemonSet');
  const api = await startApiServer({
    seed: { nodes: seed.nodes, objects: seed.objects!.filter((o) => o.kind !== 'DaemonSet') },
    readyDelayMs: options.readyDelayMs ?? 20,
    ...(options.sandboxRetryMs !== undefined ? { sandboxRetryMs: options.sandboxRetryMs } : {}),
  });
  const byName = new Map(nodes.map((n) => [n.name, n.dataplane]));
  for (const n of nodes) if (n.exec) api.onNodeExec(n.name, n.exec);
  // --node-access daemonset pods run their node's script through the same handlers.
  runNodeAccessPods(api);
  const agents = startFlannelAgents({
    api,
    dataplaneFor: (name) => byName.get(name),
    namespace,
    ...(options.routeCheckIntervalMs !== undefined
      ? { routeCheckIntervalMs: options.routeCheckIntervalMs }
      : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-simflannel-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const close = async () => {
    await agents.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await api.writeKubeconfig(kubeconfig);
    for (const ds of daemonSets) api.create(ds);
    await waitForFlannelReady(
      api,
      agents,
      nodes.map((n) => n.name),
      namespace,
      options.timeoutMs,
    );
  } catch (error) {
    await close();
    throw error;
  }
  return { api, kubeconfig, agents, nodes, namespace, close };
};
