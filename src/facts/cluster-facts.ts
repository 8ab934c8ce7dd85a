// Everything the checks evaluate, in one JSON-serialisable value: what the Kubernetes API says
// (`api`, absent when running from an inventory only), what each node's probe found (or why it could
// not be probed), and the backend the cluster is expected to run. buildClusterFacts turns raw API
// objects into this shape so commands stay thin and checks never parse Kubernetes JSON themselves.
import { flannelPlugin, parseCniConf, type FlannelDelegate } from '../flannel/cni-conf.ts';
import {
  flanneldInterfaceFlags,
  flanneldIpMasq,
  type FlanneldInterfaceFlags,
} from '../flannel/flanneld-flags.ts';
import {
  ANNOTATIONS,
  CNI_CONF_KEY,
  CONFIGMAP_NAME,
  FLANNEL_CONTAINER_NAME,
  NET_CONF_KEY,
} from '../flannel/names.ts';
import { parseNetConf, type NetConf } from '../flannel/net-conf.ts';
import type { NodeAccessIssue, NodeGatherResult } from './gather.ts';
import type { IpFragCounters, NodeFacts } from './node-facts.ts';

export type { NodeAccessIssue } from './gather.ts';
export type { FlanneldInterfaceFlags } from '../flannel/flanneld-flags.ts';

export interface NodeCondition {
  readonly type: string;
  readonly status: string;
  readonly reason: string | null;
  readonly message: string | null;
}

/** The flannel annotations flanneld writes on its node (null when absent). */
export interface FlannelAnnotations {
  readonly backendType: string | null;
  /** Raw text as written: vxlan `{"VNI":1,"VtepMAC":"…"}`, host-gw `null`. */
  readonly backendData: string | null;
  /** VtepMAC parsed from backend-data (vxlan only). */
  readonly vtepMac: string | null;
  readonly publicIp: string | null;
  /** Dual stack: `public-ipv6` (peers' IPv6 next hop) and `backend-v6-data` with its VtepMAC (vxlan). */
  readonly publicIpv6: string | null;
  readonly backendV6Data: string | null;
  readonly vtepMacV6: string | null;
  /** `node-public-ip`: read by flanneld at start and used as --public-ip (main.go GetStoredPublicIP). */
  readonly nodePublicIp: string | null;
  /** `public-ip-overwrite`: copied into public-ip for peers; flanneld's own address is unchanged (kube.go). */
  readonly publicIpOverwrite: string | null;
  /** Nodes without `kube-subnet-manager: "true"` are ignored by flanneld's lease informer. */
  readonly kubeSubnetManager: boolean;
}

export interface ApiNode {
  readonly name: string;
  readonly internalIP: string | null;
  /** spec.podCIDRs, or [spec.podCIDR]; empty when none is assigned. */
  readonly podCIDRs: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** spec.providerID, e.g. `aws:///eu-west-1a/i-0abc…`, `gce://project/zone/name`; null when unset. */
  readonly providerID: string | null;
  readonly flannel: FlannelAnnotations;
  readonly conditions: readonly NodeCondition[];
  /** The NetworkUnavailable condition; flanneld sets it False with reason FlannelIsUp. */
  readonly networkUnavailable: NodeCondition | null;
}

export interface FlannelDaemonSetFacts {
  readonly name: string;
  readonly namespace: string;
  readonly generation: number | null;
  readonly observedGeneration: number | null;
  /** RollingUpdate (the API default) or OnDelete. */
  readonly updateStrategy: string;
  readonly desired: number;
  readonly current: number;
  readonly ready: number;
  readonly updated: number;
  readonly available: number;
  /** The flanneld container's image in the template. */
  readonly image: string | null;
  /**
   * Whether the template runs flanneld with --ip-masq, from its args and FLANNELD_IP_MASQ (null when
   * the container is not found or a wrapper command or env reference hides it).
   */
  readonly ipMasq: boolean | null;
  /** flanneld's interface flags in the template (null when the container is not found). */
  readonly interfaceFlags: FlanneldInterfaceFlags | null;
}

/** The ConfigMap's cni-conf.json, which install-cni copies to each node when a flannel pod starts. */
export interface CniConfFacts {
  readonly text: string;
  /** The flannel plugin's delegate as written ({} when it has none); null when unusable. */
  readonly delegate: FlannelDelegate | null;
  /** Why `delegate` is null: the conflist does not parse or has no flannel plugin. */
  readonly error: string | null;
}

export interface FlannelPodFacts {
  readonly name: string;
  readonly node: string | null;
  readonly phase: string | null;
  readonly ready: boolean;
  /** Restarts of the flanneld container. */
  readonly restartCount: number;
  readonly image: string | null;
  /** The `pod-template-generation` label the DaemonSet controller sets. */
  readonly templateGeneration: number | null;
  /** Recent log lines of the flanneld container; null when not gathered. */
  readonly logLines: readonly string[] | null;
}

export interface FlannelInstallFacts {
  readonly namespace: string;
  /** null when no flannel DaemonSet was found. */
  readonly daemonSet: FlannelDaemonSetFacts | null;
  readonly configMapName: string;
  readonly configMapFound: boolean;
  readonly netConfText: string | null;
  /** null when the ConfigMap or its net-conf.json is missing or does not parse. */
  readonly netConf: NetConf | null;
  readonly netConfError: string | null;
  /** null when the ConfigMap or its cni-conf.json is missing; absent in facts built before it existed. */
  readonly cniConf?: CniConfFacts | null;
  readonly pods: readonly FlannelPodFacts[];
}

/**
 * A FailedCreatePodSandBox event as kubelet records it (kuberuntime_manager.go SyncPod: Warning,
 * "Failed to create pod sandbox: <CRI error>", source.host = the node): where flannel's CNI plugin
 * errors surface, since the plugin runs under the container runtime, not in flanneld.
 */
export interface PodSandboxEvent {
  /** source.host, else reportingInstance: the node whose kubelet reported it. */
  readonly node: string | null;
  readonly namespace: string;
  readonly pod: string;
  readonly message: string;
  readonly count: number;
  /** lastTimestamp, else eventTime or series.lastObservedTime; null when none is set. */
  readonly lastSeen: string | null;
}

export interface ApiFacts {
  readonly nodes: readonly ApiNode[];
  /** null when flannel is not installed. */
  readonly flannel: FlannelInstallFacts | null;
  /** FailedCreatePodSandBox events in every namespace; absent when they were not read. */
  readonly sandboxEvents?: readonly PodSandboxEvent[];
}

export interface ClusterNode {
  readonly name: string;
  /** The address the probe was (or would have been) sent to. */
  readonly address: string | null;
  readonly facts: NodeFacts | null;
  readonly issue: NodeAccessIssue | null;
}

export type BackendSource = 'configmap' | 'flag' | 'inferred' | 'unknown';

export interface ExpectedBackend {
  /** e.g. 'host-gw', 'vxlan'; null when nothing says. */
  readonly value: string | null;
  readonly source: BackendSource;
  /** One line for the report: where the value came from. */
  readonly reason: string;
}

/** One `mtu-probe` measurement: the largest don't-fragment packet that crossed from node to peer. */
export interface PathMtuResult {
  readonly node: string;
  readonly peer: string;
  /** 'node': the peer's public IP; 'pod': a pod IP behind the peer. */
  readonly target: 'node' | 'pod';
  readonly address: string;
  /** Largest IP packet size (payload + 28) that passed; null when none did. */
  readonly largestPassed: number | null;
  /** The size that should pass (the path's MTU per the backend rule). */
  readonly expected: number;
  /** e.g. the ping line reporting "Frag needed and DF set (mtu = 1400)". */
  readonly evidence?: readonly string[];
}

export interface MtuProbeFacts {
  readonly results: readonly PathMtuResult[];
  /** /proc/net/snmp Ip counters per node, read before and after the probe. */
  readonly fragCounters?: Readonly<Record<string, { before: IpFragCounters; after: IpFragCounters }>>;
}

export interface ClusterFacts {
  readonly api?: ApiFacts;
  /** Probed nodes (or the reason they could not be), in name order. */
  readonly nodes: readonly ClusterNode[];
  readonly expectedBackend: ExpectedBackend;
  /** Filled by `mtu-probe`. */
  readonly mtuProbe?: MtuProbeFacts;
}

/** Natural order, so node-2 comes before node-10. */
export const byName = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

// --- building from raw API objects -------------------------------------------------------------

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strRecord = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));

const vtepMacOf = (backendData: string | null): string | null => {
  if (!backendData) return null;
  try {
    return str(obj(JSON.parse(backendData)).VtepMAC)?.toLowerCase() ?? null;
  } catch {
    return null;
  }
};

const conditionOf = (raw: unknown): NodeCondition => {
  const c = obj(raw);
  return {
    type: str(c.type) ?? '',
    status: str(c.status) ?? 'Unknown',
    reason: str(c.reason),
    message: str(c.message),
  };
};

/** A V1Node-like JSON object as the checks see it. */
export const apiNodeFrom = (raw: unknown): ApiNode => {
  const node = obj(raw);
  const meta = obj(node.metadata);
  const spec = obj(node.spec);
  const status = obj(node.status);
  const annotations = strRecord(meta.annotations);
  const podCIDRs = arr(spec.podCIDRs).filter((c): c is string => typeof c === 'string');
  const single = str(spec.podCIDR);
  const backendData = annotations[ANNOTATIONS.backendData] ?? null;
  const backendV6Data = annotations[ANNOTATIONS.backendV6Data] ?? null;
  const conditions = arr(status.conditions).map(conditionOf);
  return {
    name: str(meta.name) ?? '',
    internalIP: str(
      arr(status.addresses)
        .map(obj)
        .find((a) => a.type === 'InternalIP')?.address,
    ),
    podCIDRs: podCIDRs.length > 0 ? podCIDRs : single ? [single] : [],
    labels: strRecord(meta.labels),
    providerID: str(spec.providerID),
    flannel: {
      backendType: annotations[ANNOTATIONS.backendType] ?? null,
      backendData,
      vtepMac: vtepMacOf(backendData),
      publicIp: annotations[ANNOTATIONS.publicIp] ?? null,
      publicIpv6: annotations[ANNOTATIONS.publicIpv6] ?? null,
      backendV6Data,
      vtepMacV6: vtepMacOf(backendV6Data),
      nodePublicIp: annotations[ANNOTATIONS.nodePublicIp] ?? null,
      publicIpOverwrite: annotations[ANNOTATIONS.publicIpOverwrite] ?? null,
      kubeSubnetManager: annotations[ANNOTATIONS.kubeSubnetManager] === 'true',
    },
    conditions,
    networkUnavailable: conditions.find((c) => c.type === 'NetworkUnavailable') ?? null,
  };
};

const flannelContainer = (containers: unknown): Json | undefined => {
  const list = arr(containers).map(obj);
  return list.find((c) => c.name === FLANNEL_CONTAINER_NAME) ?? list[0];
};

export const daemonSetFactsFrom = (raw: unknown): FlannelDaemonSetFacts => {
  const ds = obj(raw);
  const meta = obj(ds.metadata);
  const spec = obj(ds.spec);
  const status = obj(ds.status);
  const container = flannelContainer(obj(obj(spec.template).spec).containers);
  const args = container ? [...arr(container.command), ...arr(container.args)].map(String) : null;
  return {
    name: str(meta.name) ?? '',
    namespace: str(meta.namespace) ?? '',
    generation: num(meta.generation),
    observedGeneration: num(status.observedGeneration),
    updateStrategy: str(obj(spec.updateStrategy).type) ?? 'RollingUpdate',
    desired: num(status.desiredNumberScheduled) ?? 0,
    current: num(status.currentNumberScheduled) ?? 0,
    ready: num(status.numberReady) ?? 0,
    updated: num(status.updatedNumberScheduled) ?? 0,
    available: num(status.numberAvailable) ?? 0,
    image: str(container?.image),
    ipMasq: container ? flanneldIpMasq(container) : null,
    interfaceFlags: args ? flanneldInterfaceFlags(args, container?.env) : null,
  };
};

/** Splits a log into lines, dropping the trailing empty one. */
const logLines = (text: string | undefined): readonly string[] | null =>
  text === undefined ? null : text.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1);

export const flannelPodFrom = (raw: unknown, log?: string): FlannelPodFacts => {
  const pod = obj(raw);
  const meta = obj(pod.metadata);
  const spec = obj(pod.spec);
  const status = obj(pod.status);
  const statuses = arr(status.containerStatuses).map(obj);
  const own = statuses.find((c) => c.name === FLANNEL_CONTAINER_NAME) ?? statuses[0];
  const generation = strRecord(meta.labels)['pod-template-generation'];
  return {
    name: str(meta.name) ?? '',
    node: str(spec.nodeName),
    phase: str(status.phase),
    ready: arr(status.conditions)
      .map(obj)
      .some((c) => c.type === 'Ready' && c.status === 'True'),
    restartCount: num(own?.restartCount) ?? 0,
    image: str(own?.image) ?? str(flannelContainer(spec.containers)?.image),
    templateGeneration: generation !== undefined && /^\d+$/.test(generation) ? Number(generation) : null,
    logLines: logLines(log),
  };
};

export interface NetConfReading {
  readonly text: string | null;
  readonly conf: NetConf | null;
  readonly error: string | null;
}

export const readNetConfFrom = (configMap: unknown): NetConfReading => {
  const text = str(obj(obj(configMap).data)[NET_CONF_KEY]);
  if (text === null) return { text, conf: null, error: `the ConfigMap has no ${NET_CONF_KEY}` };
  try {
    return { text, conf: parseNetConf(text), error: null };
  } catch (error) {
    return { text, conf: null, error: (error as Error).message };
  }
};

export const readCniConfFrom = (configMap: unknown): CniConfFacts | null => {
  const text = str(obj(obj(configMap).data)[CNI_CONF_KEY]);
  if (text === null) return null;
  try {
    const plugin = flannelPlugin(parseCniConf(text, CNI_CONF_KEY));
    if (!plugin) return { text, delegate: null, error: `${CNI_CONF_KEY} has no flannel plugin` };
    return { text, delegate: obj(plugin.delegate), error: null };
  } catch (error) {
    return { text, delegate: null, error: (error as Error).message };
  }
};

export interface RawApiObjects {
  /** V1Node-like objects. */
  readonly nodes: readonly unknown[];
  /** Where flannel was looked for (or found). */
  readonly namespace: string;
  /** undefined/null: no flannel DaemonSet found. */
  readonly daemonSet?: unknown;
  readonly configMap?: unknown;
  readonly configMapName?: string;
  readonly pods?: readonly unknown[];
  /** Recent flanneld logs by pod name. */
  readonly logs?: Readonly<Record<string, string>>;
  /** core/v1 Events with reason FailedCreatePodSandBox, when read. */
  readonly events?: readonly unknown[];
}

export const podSandboxEventFrom = (raw: unknown): PodSandboxEvent => {
  const event = obj(raw);
  const involved = obj(event.involvedObject);
  return {
    node: str(obj(event.source).host) ?? str(event.reportingInstance),
    namespace: str(involved.namespace) ?? str(obj(event.metadata).namespace) ?? '',
    pod: str(involved.name) ?? '',
    message: str(event.message) ?? '',
    count: num(event.count) ?? num(obj(event.series).count) ?? 1,
    lastSeen: str(event.lastTimestamp) ?? str(obj(event.series).lastObservedTime) ?? str(event.eventTime),
  };
};

export const apiFactsFrom = (raw: RawApiObjects): ApiFacts => {
  const nodes = raw.nodes.map(apiNodeFrom).sort((a, b) => byName(a.name, b.name));
  const installed = raw.daemonSet != null || raw.configMap != null;
  const events = raw.events ? { sandboxEvents: raw.events.map(podSandboxEventFrom) } : {};
  if (!installed) return { nodes, flannel: null, ...events };
  const netConf: NetConfReading =
    raw.configMap == null ? { text: null, conf: null, error: null } : readNetConfFrom(raw.configMap);
  return {
    nodes,
    flannel: {
      namespace: raw.namespace,
      daemonSet: raw.daemonSet == null ? null : daemonSetFactsFrom(raw.daemonSet),
      configMapName: raw.configMapName ?? str(obj(obj(raw.configMap).metadata).name) ?? CONFIGMAP_NAME,
      configMapFound: raw.configMap != null,
      netConfText: netConf.text,
      netConf: netConf.conf,
      netConfError: netConf.error,
      cniConf: raw.configMap == null ? null : readCniConfFrom(raw.configMap),
      pods: (raw.pods ?? [])
        .map((p) => flannelPodFrom(p, raw.logs?.[str(obj(obj(p).metadata).name) ?? '']))
        .sort((a, b) => byName(a.node ?? '', b.node ?? '') || byName(a.name, b.name)),
    },
    ...events,
  };
};

/** A node's probe outcome: gatherNodeFacts' result, or a hand-built one (tests, inventories). */
export type NodeProbeOutcome =
  | NodeGatherResult
  | {
      readonly name: string;
      readonly address?: string | null;
      readonly facts?: NodeFacts | null;
      readonly issue?: NodeAccessIssue | null;
    };

const clusterNodeFrom = (outcome: NodeProbeOutcome): ClusterNode => {
  if ('ok' in outcome) {
    return outcome.ok
      ? { name: outcome.node, address: outcome.facts.address, facts: outcome.facts, issue: null }
      : { name: outcome.node, address: null, facts: null, issue: outcome.issue };
  }
  const facts = outcome.facts ?? null;
  return {
    name: outcome.name,
    address: outcome.address ?? facts?.address ?? null,
    facts,
    issue:
      outcome.issue ??
      (facts ? null : { node: outcome.name, kind: 'probe-failed', message: 'the node was not probed' }),
  };
};

/** Names a VXLAN device flanneld created (flannel.<VNI>, flannel-v6.<VNI>). */
export const isFlannelVxlanDevice = (name: string, kind: string | null): boolean =>
  kind === 'vxlan' && /^flannel(-v6)?\.\d+$/.test(name);

/**
 * The backend to hold the cluster to: `--backend` wins, then the ConfigMap's Backend.Type, then the
 * devices on probed nodes (a flannel.N VXLAN device on any node → vxlan; none on every node → host-gw).
 */
export const resolveExpectedBackend = (
  api: ApiFacts | undefined,
  nodes: readonly ClusterNode[],
  backendFlag?: string,
): ExpectedBackend => {
  if (backendFlag) return { value: backendFlag, source: 'flag', reason: `--backend ${backendFlag}` };
  const flannel = api?.flannel;
  const conf = flannel?.netConf;
  if (flannel && conf) {
    const where = `${flannel.namespace}/${flannel.configMapName}`;
    return {
      value: conf.Backend.Type,
      source: 'configmap',
      reason: conf.backendOmitted
        ? `net-conf.json in ConfigMap ${where} has no Backend, so flanneld uses udp`
        : `Backend.Type in net-conf.json of ConfigMap ${where}`,
    };
  }
  const probed = nodes.filter((n) => n.facts?.links);
  if (probed.length === 0) {
    return {
      value: null,
      source: 'unknown',
      reason: 'no ConfigMap, no --backend and no probed node devices',
    };
  }
  const withVxlan = probed.filter((n) => n.facts!.links!.some((l) => isFlannelVxlanDevice(l.name, l.kind)));
  if (withVxlan.length > 0) {
    return {
      value: 'vxlan',
      source: 'inferred',
      reason: `inferred: a flannel VXLAN device exists on ${withVxlan.length} of ${probed.length} probed nodes`,
    };
  }
  return {
    value: 'host-gw',
    source: 'inferred',
    reason: `inferred: no flannel VXLAN device on any of ${probed.length} probed nodes`,
  };
};

export interface ClusterFactsInput {
  readonly api?: RawApiObjects;
  readonly nodes?: readonly NodeProbeOutcome[];
  /** --backend. */
  readonly backend?: string;
  readonly mtuProbe?: MtuProbeFacts;
}

/** Assembles ClusterFacts from raw API objects and per-node probe outcomes. */
export const buildClusterFacts = (input: ClusterFactsInput): ClusterFacts => {
  const api = input.api ? apiFactsFrom(input.api) : undefined;
  const nodes = (input.nodes ?? []).map(clusterNodeFrom).sort((a, b) => byName(a.name, b.name));
  return {
    ...(api ? { api } : {}),
    nodes,
    expectedBackend: resolveExpectedBackend(api, nodes, input.backend),
    ...(input.mtuProbe ? { mtuProbe: input.mtuProbe } : {}),
  };
};
