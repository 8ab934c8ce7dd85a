// The container runtime's part for `--node-access daemonset` pods: once such a pod is Running, what its
// command (DAEMONSET_RUNNER) does on a real node happens here: the script for the pod's node is taken
// from the mounted ConfigMap, run through the node's exec handler (the virtual node's model, or the lab
// node's namespace with /run/flannel mounted), its output and the end marker go to the pod's log, and
// the pod stays Running as the runner's sleep keeps it.
import { DAEMONSET_RUNNER, doneLine } from '../nodes/daemonset-pod.ts';
import { NODE_ACCESS_CONTAINER } from '../nodes/kube-exec-pod.ts';
import type { ApiServer } from './apiserver/index.ts';
import type { KubeObject } from './cluster-seed.ts';

interface Container {
  name: string;
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  nodeName?: string;
  containers?: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}

const NODE_NAME = /^[a-z0-9.-]+$/;

const runnerContainer = (pod: KubeObject): Container | undefined =>
  (pod.spec as PodSpec | undefined)?.containers?.find(
    (c) =>
      c.name === NODE_ACCESS_CONTAINER &&
      c.command?.length === 3 &&
      c.command[0] === 'sh' &&
      c.command[1] === '-c' &&
      c.command[2] === DAEMONSET_RUNNER,
  );

const isRunning = (pod: KubeObject | undefined): boolean =>
  (
    pod?.status as { containerStatuses?: { name: string; state?: { running?: unknown } }[] } | undefined
  )?.containerStatuses?.some((c) => c.name === NODE_ACCESS_CONTAINER && c.state?.running !== undefined) ??
  false;

/** Resolves true once the pod's container runs, false when the pod is gone first. */
const whenRunning = (api: ApiServer, pod: KubeObject): Promise<boolean> =>
  new Promise((resolve) => {
    const uid = pod.metadata!.uid;
    const unsubscribe = api.store.subscribe((event) => {
      if (event.resource.resource !== 'pods' || event.object.metadata?.uid !== uid) return;
      if (event.type === 'DELETED' || isRunning(event.object)) {
        unsubscribe();
        resolve(event.type !== 'DELETED');
      }
    });
  });

/** The environment the container sees: literal values and spec.nodeName from the downward API. */
const envOf = (pod: KubeObject, container: Container): Map<string, string> =>
  new Map(
    (container.env ?? []).map((e) => [
      e.name,
      e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName'
        ? ((pod.spec as PodSpec).nodeName ?? '')
        : (e.value ?? ''),
    ]),
  );

const runPod = async (api: ApiServer, pod: KubeObject, container: Container): Promise<void> => {
  const namespace = pod.metadata!.namespace!;
  const spec = pod.spec as PodSpec;
  const env = envOf(pod, container);
  const node = env.get('NODE_NAME') ?? '';
  const scriptsDir = env.get('FLANNELCTL_SCRIPTS');
  const mount = container.volumeMounts?.find((m) => m.mountPath === scriptsDir);
  const source = spec.volumes?.find((v) => v.name === mount?.name)?.configMap?.name;
  const data = source
    ? ((api.get('configmaps', namespace, source)?.data as Record<string, string> | undefined) ?? {})
    : {};
  let output: string;
  let code: number;
  if (!NODE_NAME.test(node)) {
    output = 'flannelctl: unexpected node name\n';
    code = 64;
  } else if (data[node] === undefined) {
    output = `flannelctl: no script for node ${node}\n`;
    code = 66;
  } else {
    const handler = api.nodeExecHandler(spec.nodeName ?? '');
    if (!handler) throw new Error(`the emulator has no container runtime for node ${spec.nodeName}`);
    const out = await handler({ pod, container: container.name, command: ['sh', '-s'], stdin: data[node] });
    // The runner sends the script's stderr to stdout (2>&1): one log stream, as kubectl logs shows it.
    output = out.stdout + out.stderr;
    code = out.exitCode;
  }
  api.appendPodLog(
    namespace,
    pod.metadata!.name!,
    `${output}\n${doneLine(env.get('FLANNELCTL_MARK') ?? '', code)}\n`,
  );
};

/** Runs every node-access DaemonSet pod's command once it is Running; returns the stop function. */
export const runNodeAccessPods = (api: ApiServer): (() => void) =>
  api.onPodStarted((pod) => {
    const container = runnerContainer(pod);
    if (!container) return;
    // Not awaited: the hook would hold the pod's start until the script ended.
    void whenRunning(api, pod)
      .then((running) => (running ? runPod(api, pod, container) : undefined))
      .catch(() => undefined);
  });
