// The objects bench creates: its namespace (when absent) and pods pinned to a node by nodeName, each
// labelled so leftovers are found with `kubectl get pods -A -l app.kubernetes.io/managed-by=flannelctl`.
import type { KubeObject } from '../kube/kube-object.ts';
import type { BenchOptions } from './options.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const RUN_LABEL = 'flannelctl.io/bench-run';
export const ROLE_LABEL = 'flannelctl.io/bench-role';
export const FIELD_MANAGER = 'flannelctl';

export const runLabels = (runId: string): Record<string, string> => ({
  [MANAGED_BY_LABEL]: 'flannelctl',
  'app.kubernetes.io/name': 'flannelctl-bench',
  [RUN_LABEL]: runId,
});

export const runSelector = (runId: string): string => `${MANAGED_BY_LABEL}=flannelctl,${RUN_LABEL}=${runId}`;

export const namespaceObject = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { [MANAGED_BY_LABEL]: 'flannelctl' } },
});

export interface BenchPodSpec {
  readonly name: string;
  readonly role: 'server' | 'client';
  readonly node: string;
  readonly image: string;
  readonly command: readonly string[];
  /** A TCP port that must accept connections before the pod is Ready (the iperf3 server). */
  readonly readyPort?: number;
  /** Default: --bench-namespace. Host mode's pods go to flannel's namespace (see hostPodSecurityContext). */
  readonly namespace?: string;
  /** Host mode through the API: the node's own network stack, as an SSH shell on the node would use. */
  readonly hostNetwork?: boolean;
  /** With hostNetwork: the only capabilities the container keeps (none but ping's NET_RAW). */
  readonly capabilities?: readonly string[];
}

/**
 * A hostNetwork bench container holds no privilege: every capability dropped (iperf3 binds a port
 * >= 1024 and connects, which needs none; ping gets NET_RAW for its raw ICMP socket, as the kernel's
 * inet_create asks for CAP_NET_RAW: linux net/ipv4/af_inet.c, unless the node's ping_group_range
 * admits it), RuntimeDefault seccomp and no privilege escalation, as src/nodes/kube-exec-pod.ts does.
 * Pod Security admits hostNetwork only at the privileged level, which flannel's namespace has and
 * the bench namespace (baseline, as `rbac --for bench` creates it) must not.
 */
export const hostPodSecurityContext = (capabilities: readonly string[] = []): Record<string, unknown> => ({
  privileged: false,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'], ...(capabilities.length > 0 ? { add: [...capabilities] } : {}) },
  seccompProfile: { type: 'RuntimeDefault' },
});

export const podObject = (runId: string, options: BenchOptions, spec: BenchPodSpec): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: spec.name,
    namespace: spec.namespace ?? options.namespace,
    labels: { ...runLabels(runId), [ROLE_LABEL]: spec.role },
  },
  spec: {
    // Pinned without the scheduler: the measurement is between exactly these two nodes.
    nodeName: spec.node,
    ...(spec.hostNetwork ? { hostNetwork: true, hostPID: false, hostIPC: false } : {}),
    restartPolicy: spec.role === 'server' ? 'Always' : 'Never',
    terminationGracePeriodSeconds: 1,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    ...(options.tolerations.length > 0 ? { tolerations: options.tolerations.map((t) => ({ ...t })) } : {}),
    ...(options.imagePullSecrets.length > 0
      ? { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }
      : {}),
    containers: [
      {
        name: spec.role === 'server' ? 'iperf3-server' : 'bench',
        image: spec.image,
        // IfNotPresent even for :latest, so an image mirrored onto the nodes works air-gapped.
        imagePullPolicy: 'IfNotPresent',
        command: [...spec.command],
        ...(spec.hostNetwork ? { securityContext: hostPodSecurityContext(spec.capabilities) } : {}),
        ...(spec.readyPort
          ? {
              ports: [{ containerPort: spec.readyPort, protocol: 'TCP' }],
              readinessProbe: { tcpSocket: { port: spec.readyPort }, periodSeconds: 1 },
            }
          : {}),
      },
    ],
  },
});

/** The iperf3 client arguments shared by pod and host mode. */
export const iperf3ClientArgs = (
  server: string,
  options: Pick<BenchOptions, 'port' | 'durationSeconds' | 'streams' | 'reverse'>,
  udpRate?: number,
): string[] => [
  'iperf3',
  '-c',
  server,
  '-p',
  String(options.port),
  '-t',
  String(options.durationSeconds),
  '-J',
  ...(options.streams > 1 ? ['-P', String(options.streams)] : []),
  ...(options.reverse ? ['-R'] : []),
  ...(udpRate !== undefined ? ['-u', '-b', String(udpRate)] : []),
];

/** ping every 0.2 s (the fastest an unprivileged ping may), bounded by a deadline. */
export const pingArgs = (server: string, count: number): string[] => [
  'ping',
  '-c',
  String(count),
  '-i',
  '0.2',
  '-w',
  String(Math.ceil(count * 0.2) + 5),
  server,
];
