// startFlannelAgents(): runs a flanneld emulation for every flannel pod the API emulator starts, on
// the node the pod is bound to; the pod is Ready when that agent is, and its log is the agent's log.
import type { KubeObject } from '../cluster-seed.ts';
import type { ApiServer } from '../apiserver/index.ts';
import { flanneldContainer, flanneldIpMasq } from '../../flannel/flanneld-flags.ts';
import { APP_LABEL, CONFIGMAP_NAME } from '../../flannel/names.ts';
import type { AgentApi } from './agent-api.ts';
import { httpAgentApi } from './agent-api.ts';
import type { Dataplane } from './dataplane.ts';
import { createKlog } from './klog.ts';
import { NodeAgent } from './node-agent.ts';

export interface FlannelAgentsOptions {
  readonly api: ApiServer;
  /** The API the agents talk to over HTTP; the emulator's own URL and token by default. */
  readonly apiUrl?: string;
  readonly token?: string;
  /** The node's kernel; undefined leaves that node's pods alone (no agent, readiness as usual). */
  dataplaneFor(nodeName: string): Dataplane | undefined;
  /** Only flannel pods of this namespace; any namespace by default. */
  readonly namespace?: string;
  /** host-gw routeCheck period; flanneld uses 10 s, the default here is 1 s for tests. */
  readonly routeCheckIntervalMs?: number;
  /** Also gets every log line, e.g. for test output. */
  readonly logger?: (nodeName: string, line: string) => void;
}

export interface FlannelAgents {
  /** The agent currently running on a node. */
  agent(nodeName: string): NodeAgent | undefined;
  /** Resolves when every running agent has handled every event queued so far. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

interface PodSpecLike {
  nodeName?: string;
  containers?: { name: string; args?: string[]; command?: string[] }[];
  volumes?: { name: string; configMap?: { name?: string } }[];
}

const isFlannelPod = (pod: KubeObject, namespace: string | undefined): boolean =>
  pod.metadata?.labels?.app === APP_LABEL.app &&
  (namespace === undefined || pod.metadata?.namespace === namespace);

/** --ip-masq as flanneld parses its args and env (the manifest passes it by default). */
const ipMasqOf = (spec: PodSpecLike): boolean => {
  const c = flanneldContainer(spec.containers);
  return c ? (flanneldIpMasq(c) ?? false) : false;
};

/** The ConfigMap the pod mounts at /etc/kube-flannel/ (volume flannel-cfg). */
const configMapOf = (spec: PodSpecLike): string =>
  spec.volumes?.find((v) => v.name === 'flannel-cfg')?.configMap?.name ?? CONFIGMAP_NAME;

export const startFlannelAgents = (options: FlannelAgentsOptions): FlannelAgents => {
  const { api } = options;
  const client: AgentApi = httpAgentApi(options.apiUrl ?? api.url, options.token ?? api.token);
  const running = new Map<string, { uid: string; agent: NodeAgent }>();
  let stopped = false;

  const offStarted = api.onPodStarted(async (pod) => {
    if (stopped || !isFlannelPod(pod, options.namespace)) return;
    const spec = (pod.spec ?? {}) as PodSpecLike;
    const nodeName = spec.nodeName;
    const dataplane = nodeName ? options.dataplaneFor(nodeName) : undefined;
    if (!nodeName || !dataplane) return;
    const previous = running.get(nodeName);
    if (previous) await previous.agent.stop();
    const namespace = pod.metadata!.namespace!;
    const podName = pod.metadata!.name!;
    const log = createKlog((line) => {
      options.logger?.(nodeName, line);
      try {
        api.appendPodLog(namespace, podName, line);
      } catch {
        /* the pod is gone; flanneld's last words go nowhere */
      }
    });
    const agent = new NodeAgent({
      nodeName,
      api: client,
      dataplane,
      configMap: { namespace, name: configMapOf(spec) },
      ipMasq: ipMasqOf(spec),
      routeCheckIntervalMs: options.routeCheckIntervalMs ?? 1000,
      log,
    });
    running.set(nodeName, { uid: pod.metadata!.uid!, agent });
    await agent.ready;
  });

  const offDeleted = api.onPodDeleted(async (pod) => {
    const nodeName = (pod.spec as PodSpecLike | undefined)?.nodeName;
    const current = nodeName ? running.get(nodeName) : undefined;
    if (!current || current.uid !== pod.metadata?.uid) return;
    running.delete(nodeName!);
    await current.agent.stop();
  });

  return {
    agent: (nodeName) => running.get(nodeName)?.agent,
    idle: async () => {
      await Promise.all([...running.values()].map((r) => r.agent.idle()));
    },
    stop: async () => {
      stopped = true;
      offStarted();
      offDeleted();
      await Promise.all([...running.values()].map((r) => r.agent.stop()));
      running.clear();
    },
  };
};
