// The objects `--node-access daemonset` creates for one batch of nodes: a ConfigMap with each node's
// script keyed by node name, and a DaemonSet whose pod on each selected node runs its own script (picked
// by the downward API's spec.nodeName), prints an end marker with the exit code, then sleeps so the
// pod stays Running (a DaemonSet pod that exits is restarted and would probe again).
import type { KubeObject } from '../kube/kube-object.ts';
import {
  MANAGED_BY_LABEL,
  NODE_ACCESS_CONTAINER,
  NODE_ACCESS_LABEL,
  RUN_FLANNEL_MOUNT,
  RUN_FLANNEL_VOLUME,
  nodeAccessSecurityContext,
} from './kube-exec-pod.ts';

/** Which batch of a run a pod belongs to: one ConfigMap and DaemonSet per batch. */
export const BATCH_LABEL = 'flannelctl.io/node-access-batch';
export const SCRIPTS_DIR = '/flannelctl/scripts';
/**
 * How long a pod sleeps after its script; flannelctl deletes the DaemonSet long before. A DaemonSet's
 * pod template cannot carry activeDeadlineSeconds (kubernetes pkg/apis/apps/validation/validation.go
 * ValidateDaemonSetSpec: "activeDeadlineSeconds in DaemonSet is not Supported"), so the pod's life is
 * bounded by the script's own timeout (below) and this sleep; a DaemonSet left behind restarts it,
 * which is why a signal's cleanup prints the exact delete when it cannot finish.
 */
export const LINGER_SECONDS = 3600;
/** The script is killed after this long, like the kube-exec pod's activeDeadlineSeconds. */
export const SCRIPT_LIMIT_SECONDS = 600;

// Nothing from the API reaches shell code: the node name is a quoted argument, checked to be a
// DNS subdomain first (so it cannot name another path), and the script is a file, run with sh.
export const DAEMONSET_RUNNER = `n=$NODE_NAME
case $n in
  ''|*[!a-z0-9.-]*) echo "flannelctl: unexpected node name"; r=64 ;;
  *) if [ -f "$FLANNELCTL_SCRIPTS/$n" ]; then timeout "$FLANNELCTL_LIMIT" sh "$FLANNELCTL_SCRIPTS/$n" </dev/null 2>&1; r=$?
     else echo "flannelctl: no script for node $n"; r=66; fi ;;
esac
printf '\\n@@%s DONE %s\\n' "$FLANNELCTL_MARK" "$r"
exec sleep "$FLANNELCTL_LINGER"
`;

export interface BatchObjectsOptions {
  readonly runId: string;
  /** 0, 1, …: batches split the scripts so each ConfigMap stays under the API's 1 MiB. */
  readonly batch: number;
  readonly namespace: string;
  readonly image: string;
  /** Random hex: the end marker no script output can fake. */
  readonly mark: string;
  /** Node name → script. */
  readonly scripts: ReadonlyMap<string, string>;
}

/** flannelctl-probe-<run>-<batch>: both objects of a batch share it. */
export const batchName = (runId: string, batch: number): string => `flannelctl-probe-${runId}-${batch}`;

export const batchSelector = (runId: string, batch: number): string =>
  `${NODE_ACCESS_LABEL}=${runId},${BATCH_LABEL}=${batch}`;

const labels = (o: BatchObjectsOptions): Record<string, string> => ({
  [MANAGED_BY_LABEL]: 'flannelctl',
  'app.kubernetes.io/name': 'flannelctl-node-access',
  [NODE_ACCESS_LABEL]: o.runId,
  [BATCH_LABEL]: String(o.batch),
});

export const batchConfigMap = (o: BatchObjectsOptions): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: batchName(o.runId, o.batch), namespace: o.namespace, labels: labels(o) },
  data: Object.fromEntries(o.scripts),
});

export const batchDaemonSet = (o: BatchObjectsOptions): KubeObject => {
  const selector = { [NODE_ACCESS_LABEL]: o.runId, [BATCH_LABEL]: String(o.batch) };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: batchName(o.runId, o.batch), namespace: o.namespace, labels: labels(o) },
    spec: {
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: labels(o) },
        spec: {
          // By node name (what the DaemonSet controller itself pins with), not the hostname label,
          // which some clouds set to something else.
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  { matchFields: [{ key: 'metadata.name', operator: 'In', values: [...o.scripts.keys()] }] },
                ],
              },
            },
          },
          // A NotReady or cordoned node is exactly the one worth diagnosing.
          tolerations: [{ operator: 'Exists' }],
          hostNetwork: true,
          hostPID: false,
          terminationGracePeriodSeconds: 1,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          containers: [
            {
              name: NODE_ACCESS_CONTAINER,
              image: o.image,
              // The flannel image is already on every node: no pull, works air-gapped.
              imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', DAEMONSET_RUNNER],
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'FLANNELCTL_SCRIPTS', value: SCRIPTS_DIR },
                { name: 'FLANNELCTL_MARK', value: o.mark },
                { name: 'FLANNELCTL_LINGER', value: String(LINGER_SECONDS) },
                { name: 'FLANNELCTL_LIMIT', value: String(SCRIPT_LIMIT_SECONDS) },
              ],
              securityContext: nodeAccessSecurityContext(),
              resources: { requests: { cpu: '10m', memory: '16Mi' } },
              volumeMounts: [
                { ...RUN_FLANNEL_MOUNT },
                { name: 'scripts', mountPath: SCRIPTS_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            { ...RUN_FLANNEL_VOLUME, hostPath: { ...RUN_FLANNEL_VOLUME.hostPath } },
            { name: 'scripts', configMap: { name: batchName(o.runId, o.batch) } },
          ],
        },
      },
    },
  };
};

/** The marker line the runner prints after the script: `@@<mark> DONE <exit code>`. */
export const doneLine = (mark: string, exitCode: number): string => `@@${mark} DONE ${exitCode}`;

/**
 * The script's output and exit code from a pod log that ends with the marker; undefined while the
 * script is still running.
 */
export const parseBatchLog = (
  log: string,
  mark: string,
): { output: string; exitCode: number } | undefined => {
  const re = new RegExp(`(?:^|\\n)@@${mark} DONE (\\d+)\\n?$`);
  const m = re.exec(log.replace(/\n+$/, '\n'));
  if (!m) return undefined;
  // The runner printed one newline before the marker so it starts a line; it is not the script's.
  return { output: log.slice(0, m.index), exitCode: Number(m[1]) };
};
