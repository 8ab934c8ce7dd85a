// The short-lived pod kube-exec runs node scripts in: pinned to its node, on the host network, every
// capability dropped but the two the probe's reads need, RuntimeDefault seccomp, no privilege
// escalation, and the host's existing /run/flannel read-only.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../kube/kube-object.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const NODE_ACCESS_LABEL = 'flannelctl.io/node-access';
export const NODE_ACCESS_CONTAINER = 'node-access';
/** The pod ends itself after this long even if flannelctl was killed before it could delete it. */
export const POD_LIFETIME_SECONDS = 3600;

export interface NodeAccessPodOptions {
  readonly runId: string;
  readonly namespace: string;
  readonly node: string;
  readonly image: string;
}

/** `kubectl get pods -A -l …` finds every pod of one run (or, without the run, every leftover). */
export const nodeAccessSelector = (runId: string): string =>
  `${MANAGED_BY_LABEL}=flannelctl,${NODE_ACCESS_LABEL}=${runId}`;

/**
 * flannelctl-access-<run>-<node>, at most 63 characters (a DNS label, as hostnames need); a long node
 * name is cut and a hash of the whole name keeps it unique.
 */
export const nodeAccessPodName = (runId: string, node: string): string => {
  const prefix = `flannelctl-access-${runId}-`;
  const slug = node.replace(/\./g, '-');
  if (prefix.length + slug.length <= 63) return `${prefix}${slug}`;
  const hash = createHash('sha256').update(node).digest('hex').slice(0, 8);
  const room = 63 - prefix.length - hash.length - 1;
  return `${prefix}${slug.slice(0, room).replace(/-+$/, '')}-${hash}`;
};

export const nodeAccessPod = (o: NodeAccessPodOptions): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: nodeAccessPodName(o.runId, o.node),
    namespace: o.namespace,
    labels: {
      [MANAGED_BY_LABEL]: 'flannelctl',
      'app.kubernetes.io/name': 'flannelctl-node-access',
      [NODE_ACCESS_LABEL]: o.runId,
    },
  },
  spec: {
    // Pinned without the scheduler, and tolerating every taint: a NotReady or cordoned node is exactly
    // the one worth diagnosing.
    nodeName: o.node,
    tolerations: [{ operator: 'Exists' }],
    hostNetwork: true,
    hostPID: false,
    restartPolicy: 'Never',
    activeDeadlineSeconds: POD_LIFETIME_SECONDS,
    terminationGracePeriodSeconds: 1,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    containers: [
      {
        name: NODE_ACCESS_CONTAINER,
        image: o.image,
        // The flannel image is already on every node: no pull, works air-gapped.
        imagePullPolicy: 'IfNotPresent',
        command: ['sleep', String(POD_LIFETIME_SECONDS)],
        securityContext: nodeAccessSecurityContext(),
        resources: { requests: { cpu: '10m', memory: '16Mi' } },
        volumeMounts: [{ ...RUN_FLANNEL_MOUNT }],
      },
    ],
    volumes: [{ ...RUN_FLANNEL_VOLUME, hostPath: { ...RUN_FLANNEL_VOLUME.hostPath } }],
  },
});

/**
 * Root in the container (the probe reads root-only netfilter state) with every capability dropped but:
 * NET_ADMIN: `iptables -S` (getsockopt IPT_SO_GET_INFO checks CAP_NET_ADMIN: linux
 *   net/ipv4/netfilter/ip_tables.c do_ipt_get_ctl) and `nft list tables` (every nfnetlink message
 *   checks it: net/netfilter/nfnetlink.c nfnetlink_rcv);
 * NET_RAW: iptables-legacy opens a SOCK_RAW socket for that getsockopt (the flannel image's
 *   iptables-wrapper may pick legacy: flannel images/Dockerfile), and `mtu-probe` runs ping.
 * Nothing else: no SYS_ADMIN, no DAC_OVERRIDE; /proc/sys stays read-only (node changes go over SSH).
 * Every command that reaches nodes through pods runs the probe, so all of them need both.
 */
export const NODE_ACCESS_CAPABILITIES: readonly string[] = ['NET_ADMIN', 'NET_RAW'];

export const nodeAccessSecurityContext = (): Record<string, unknown> => ({
  privileged: false,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'], add: [...NODE_ACCESS_CAPABILITIES] },
  seccompProfile: { type: 'RuntimeDefault' },
  // Not readOnlyRootFilesystem: iptables-legacy creates /run/xtables.lock even to list rules and
  // exits when it cannot (iptables libxtables/xshared.c xtables_lock_or_exit).
});

/**
 * The host's /run/flannel as it is (`Directory`: the kubelet checks it exists and never creates it on
 * the host, unlike DirectoryOrCreate), mounted read-only. A node without it keeps the pod in
 * ContainerCreating (FailedMount): flannel is not running there, which the start timeout reports.
 */
export const RUN_FLANNEL_VOLUME = {
  name: 'run-flannel',
  hostPath: { path: '/run/flannel', type: 'Directory' },
} as const;
export const RUN_FLANNEL_MOUNT = { name: 'run-flannel', mountPath: '/run/flannel', readOnly: true } as const;

interface PodStatus {
  phase?: string;
  reason?: string;
  message?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  containerStatuses?: {
    name: string;
    state?: {
      running?: unknown;
      waiting?: { reason?: string; message?: string };
      terminated?: { exitCode?: number; reason?: string; message?: string };
    };
  }[];
}

export type PodState =
  | { readonly state: 'running' }
  | { readonly state: 'starting'; readonly detail: string }
  | { readonly state: 'failed'; readonly reason: string };

/** Container waits that never resolve by themselves. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'CrashLoopBackOff',
]);

/** Where the pod stands: ready for exec, still starting (and why), or never going to start (and why). */
export const podState = (pod: KubeObject | undefined): PodState => {
  if (!pod) return { state: 'failed', reason: 'the pod was deleted' };
  const status = (pod.status ?? {}) as PodStatus;
  const container = status.containerStatuses?.find((c) => c.name === NODE_ACCESS_CONTAINER);
  if (status.phase === 'Running' && container?.state?.running) return { state: 'running' };
  const unschedulable = status.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unschedulable)
    return { state: 'failed', reason: `Unschedulable: ${unschedulable.message ?? ''}`.trim() };
  const waiting = container?.state?.waiting;
  if (waiting?.reason && FATAL_WAITING.has(waiting.reason))
    return { state: 'failed', reason: `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}` };
  if (status.phase === 'Failed' || status.phase === 'Succeeded' || container?.state?.terminated) {
    const t = container?.state?.terminated;
    const why = status.reason ?? t?.reason ?? status.phase ?? 'Terminated';
    const message = status.message ?? t?.message;
    return { state: 'failed', reason: `${why}${message ? `: ${message}` : ''}` };
  }
  return {
    state: 'starting',
    detail: `${status.phase ?? 'Pending'}${waiting?.reason ? `, ${waiting.reason}` : ''}`,
  };
};
