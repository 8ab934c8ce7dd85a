// The API permissions each command needs, one rule per reason. Derived from the requests each command
// makes against the API emulator (test/e2e/rbac-needed.test.ts proves every rule is needed and enough,
// rbac-scope.test.ts that nothing broader is granted).
import {
  CLUSTER_ROLE_BINDING_NAME,
  CLUSTER_ROLE_NAME,
  CONFIGMAP_NAME,
  DAEMONSET_NAME,
  LEGACY_NAMESPACE,
  SERVICE_ACCOUNT_NAME,
} from '../flannel/names.ts';
import { renderManifest } from '../flannel/manifest.ts';

export const RBAC_COMMANDS = ['doctor', 'migrate', 'install', 'bench'] as const;
export type RbacCommand = (typeof RBAC_COMMANDS)[number];

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

/**
 * Where a rule applies. 'cluster': cluster-scoped resources, or namespaced ones in every namespace;
 * 'flannel': flannel's namespace; 'legacy': kube-system, where releases before v0.19 put flannel;
 * 'bench': the namespace bench runs its pods in.
 */
export type RuleScope = 'cluster' | 'flannel' | 'legacy' | 'bench';

export interface Need {
  readonly scope: RuleScope;
  readonly rule: PolicyRule;
  /** Shown as a comment above the rule. */
  readonly why: string;
  /**
   * Only needed to create a namespace the manifest itself creates (a Role must
   * live in an existing namespace), so left out there.
   */
  readonly createsScopeNamespace?: true;
}

export interface NeedsContext {
  /** Flannel's namespace. */
  readonly namespace: string;
  readonly benchNamespace: string;
  /** doctor's --node-access: kube-exec also creates, execs into and deletes pods in flannel's namespace. */
  readonly nodeAccess?: 'ssh' | 'kube-exec' | 'daemonset';
  /** bench's --mode: which paths it measures (pod: bench namespace pods; host: the nodes). */
  readonly benchMode?: 'pod' | 'host' | 'both';
}

const core = (resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups: [''],
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});
const apps = (resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups: ['apps'],
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});
const rbac = (resources: string[], verbs: string[], resourceNames?: string[]): PolicyRule => ({
  apiGroups: ['rbac.authorization.k8s.io'],
  resources,
  verbs,
  ...(resourceNames ? { resourceNames } : {}),
});

/** Finding flannel: DaemonSets labelled app=flannel are listed (a list cannot be limited by name). */
const discover: Need = {
  scope: 'flannel',
  rule: apps(['daemonsets'], ['list']),
  why: 'find the flannel DaemonSet by its app=flannel label',
};

const kubeExec: Need[] = [
  {
    scope: 'flannel',
    rule: core(['pods'], ['create', 'get', 'delete']),
    why: '--node-access kube-exec: a node-access pod per node (names carry a run id), polled until running, deleted afterwards',
  },
  {
    scope: 'flannel',
    rule: core(['pods/exec'], ['create']),
    why: '--node-access kube-exec: the probe script runs in that pod through pods/exec (sh -s, script on stdin)',
  },
];

// doctor lists its pods and reads their logs with rules it has anyway (doctorReads); bench needs them.
const daemonSetReads: Need[] = [
  {
    scope: 'flannel',
    rule: core(['pods'], ['list']),
    why: "--node-access daemonset: the DaemonSet's pods, polled until each has run its node's script",
  },
  {
    scope: 'flannel',
    rule: core(['pods/log'], ['get']),
    why: "--node-access daemonset: each node's output is its pod's log",
  },
];

const daemonSetAccess: Need[] = [
  {
    scope: 'flannel',
    rule: core(['configmaps'], ['create', 'delete']),
    why: "--node-access daemonset: a ConfigMap with each node's probe script (names carry a run id), deleted afterwards",
  },
  {
    scope: 'flannel',
    rule: apps(['daemonsets'], ['create', 'delete']),
    why: '--node-access daemonset: one DaemonSet runs the probe on every selected node; its pods print the results to their logs; deleted afterwards',
  },
];

const doctorReads: Need[] = [
  {
    scope: 'cluster',
    rule: core(['nodes'], ['list']),
    why: 'every node: podCIDR, addresses, flannel annotations, conditions',
  },
  discover,
  {
    scope: 'flannel',
    rule: core(['configmaps'], ['get']),
    why: 'net-conf.json of the ConfigMap the DaemonSet mounts (its name is read from the DaemonSet)',
  },
  {
    scope: 'flannel',
    rule: core(['pods'], ['list']),
    why: 'the flannel pod on each node, its readiness and restarts',
  },
  {
    scope: 'flannel',
    rule: core(['pods/log'], ['get']),
    why: "the tail of each flannel pod's log (flannel-logs check)",
  },
  {
    scope: 'cluster',
    rule: core(['events'], ['list']),
    why: "FailedCreatePodSandBox events of pods in any namespace: flannel's CNI plugin errors (pod-sandbox check)",
  },
];

const doctor = (ctx: NeedsContext): Need[] => [
  ...doctorReads,
  ...(ctx.nodeAccess === 'kube-exec' ? kubeExec : []),
  ...(ctx.nodeAccess === 'daemonset' ? daemonSetAccess : []),
];

const migrate = (): Need[] => [
  {
    scope: 'cluster',
    rule: core(['nodes'], ['list']),
    why: "every node's backend annotations, before, during and after",
  },
  discover,
  {
    scope: 'flannel',
    rule: apps(['daemonsets'], ['get'], [DAEMONSET_NAME]),
    why: 'rollout status of the DaemonSet',
  },
  {
    scope: 'flannel',
    rule: apps(['daemonsets'], ['patch'], [DAEMONSET_NAME]),
    why: 'rollout restart (restartedAt annotation), so flanneld reads the new net-conf.json',
  },
  {
    scope: 'flannel',
    rule: core(['configmaps'], ['get'], [CONFIGMAP_NAME]),
    why: 'the current net-conf.json, resumable state and backup annotation',
  },
  {
    scope: 'flannel',
    rule: core(['configmaps'], ['update'], [CONFIGMAP_NAME]),
    why: 'the new backend, written with optimistic concurrency (PUT with resourceVersion)',
  },
  {
    scope: 'flannel',
    rule: core(['pods'], ['list']),
    why: 'each flannel pod restarting and becoming Ready, node by node',
  },
  {
    scope: 'cluster',
    rule: core(['pods'], ['list']),
    why: 'pods in every namespace: their pod IPs are what verification and --watch-connectivity ping; --cleanup: those started before their node switched (stale veth MTU)',
  },
  {
    scope: 'cluster',
    rule: apps(['replicasets'], ['get']),
    why: '--cleanup: follow a stale pod to the Deployment to restart (without it the ReplicaSet is named)',
  },
];

const install = (ctx: NeedsContext): Need[] => {
  const flannelRules = (renderManifest().find((o) => o.kind === 'ClusterRole')?.rules ?? []) as PolicyRule[];
  const ownNamespace = ctx.namespace !== LEGACY_NAMESPACE;
  return [
    {
      scope: 'cluster',
      rule: core(['nodes'], ['list']),
      why: 'check every podCIDR fits --network; wait for a Ready pod on each node',
    },
    discover,
    ...(ctx.namespace !== LEGACY_NAMESPACE
      ? [
          {
            scope: 'legacy' as const,
            rule: apps(['daemonsets'], ['list']),
            why: 'find a legacy flannel install in kube-system (releases before v0.19) when kube-flannel has none',
          },
        ]
      : []),
    ...(ownNamespace
      ? [
          {
            scope: 'cluster' as const,
            rule: core(['namespaces'], ['get', 'patch'], [ctx.namespace]),
            why: `read and server-side apply namespace ${ctx.namespace} (labels: pod-security privileged)`,
          },
          {
            scope: 'cluster' as const,
            rule: core(['namespaces'], ['create'], [ctx.namespace]),
            why: 'a server-side apply that creates an object is also authorized as create of that name',
            createsScopeNamespace: true as const,
          },
        ]
      : []),
    {
      scope: 'cluster',
      rule: rbac(['clusterroles'], ['get', 'patch', 'create'], [CLUSTER_ROLE_NAME]),
      why: "flanneld's ClusterRole, applied server-side (create when absent)",
    },
    {
      scope: 'cluster',
      rule: rbac(['clusterrolebindings'], ['get', 'patch', 'create'], [CLUSTER_ROLE_BINDING_NAME]),
      why: "binds flanneld's ServiceAccount to its ClusterRole",
    },
    ...flannelRules.map((rule): Need => ({
      scope: 'cluster',
      rule,
      why: "flanneld's ClusterRole grants it, and you may grant only what you hold (escalate/bind would allow more)",
    })),
    {
      scope: 'flannel',
      rule: core(['serviceaccounts'], ['get', 'patch', 'create'], [SERVICE_ACCOUNT_NAME]),
      why: "flanneld's ServiceAccount",
    },
    {
      scope: 'flannel',
      rule: core(['configmaps'], ['get', 'patch', 'create'], [CONFIGMAP_NAME]),
      why: 'net-conf.json and cni-conf.json',
    },
    {
      scope: 'flannel',
      rule: apps(['daemonsets'], ['get', 'patch', 'create'], [DAEMONSET_NAME]),
      why: 'the flannel DaemonSet; patch also restarts it when only the ConfigMap changed',
    },
    {
      scope: 'flannel',
      rule: core(['pods'], ['list']),
      why: 'wait until the flannel pod on every node is Ready',
    },
  ];
};

/** bench's pod path: its own namespace (kept when it exists) and iperf3/ping pods in it. */
const benchPodPath = (ctx: NeedsContext): Need[] => [
  {
    scope: 'cluster',
    rule: core(['namespaces'], ['get'], [ctx.benchNamespace]),
    why: `does namespace ${ctx.benchNamespace} exist (then it is kept)?`,
  },
  {
    scope: 'cluster',
    rule: core(['namespaces'], ['create', 'patch', 'delete'], [ctx.benchNamespace]),
    why: `create namespace ${ctx.benchNamespace} with server-side apply when absent, delete it afterwards`,
    createsScopeNamespace: true,
  },
  {
    scope: 'bench',
    rule: core(['pods'], ['create', 'patch', 'get', 'list', 'delete']),
    why: 'the iperf3 server and client pods: applied, watched until done, deleted (names carry a run id)',
  },
  { scope: 'bench', rule: core(['pods/log'], ['get']), why: "iperf3's JSON result is the client pod's log" },
  {
    scope: 'bench',
    rule: core(['events'], ['list']),
    why: "a bench pod that cannot run is reported with its own Events (image pull, probe, kubelet's rejection)",
  },
];

/**
 * bench's host path without SSH: hostNetwork iperf3/ping pods in flannel's namespace (the node-access
 * pods' image has no iperf3; Pod Security admits hostNetwork there and not in bench's baseline one).
 */
const benchHostPods: Need[] = [
  {
    scope: 'flannel',
    rule: core(['pods'], ['create', 'patch', 'get', 'list', 'delete']),
    why: '--mode host|both without SSH: a hostNetwork iperf3 server pod and client pods, applied, watched until done, deleted (names carry a run id)',
  },
  {
    scope: 'flannel',
    rule: core(['pods/log'], ['get']),
    why: "--mode host|both without SSH: iperf3's JSON result is the hostNetwork client pod's log",
  },
  {
    scope: 'flannel',
    rule: core(['events'], ['list']),
    why: '--mode host|both without SSH: a hostNetwork bench pod that cannot run is reported with its own Events',
  },
];

const bench = (ctx: NeedsContext): Need[] => {
  const mode = ctx.benchMode ?? 'pod';
  const access = ctx.nodeAccess ?? 'ssh';
  return [
    { scope: 'cluster', rule: core(['nodes'], ['list']), why: 'pick the node pair and read its addresses' },
    discover,
    {
      scope: 'flannel',
      rule: core(['configmaps'], ['get']),
      why: 'the backend under test, recorded with the result',
    },
    ...(mode !== 'host' ? benchPodPath(ctx) : []),
    ...(mode !== 'pod' && access !== 'ssh' ? benchHostPods : []),
    // Node CPU, kernel and MTU (pod mode measures on without them, with a warning).
    ...(access === 'kube-exec' ? kubeExec : []),
    ...(access === 'daemonset' ? [...daemonSetAccess, ...daemonSetReads] : []),
  ];
};

export const needsFor = (command: RbacCommand, ctx: NeedsContext): Need[] => {
  switch (command) {
    case 'doctor':
      return doctor(ctx);
    case 'migrate':
      return migrate();
    case 'install':
      return install(ctx);
    case 'bench':
      return bench(ctx);
  }
};
