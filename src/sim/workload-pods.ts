// Workload pods for a simulated cluster: pause pods created through the API emulator on chosen nodes,
// as a Deployment's pods would be, and waited for until Running with a pod IP. In the lab the pod runner
// gives each its sandbox through the real CNI plugins; on virtual nodes the emulator's kubelet hands out
// the address. Commands that verify the pod network (migrate, mtu-probe, bench) find them by pod IP.
import type { ApiServer } from './apiserver/index.ts';

export const WORKLOAD_NAMESPACE = 'default';
export const WORKLOAD_LABEL = { app: 'workload' } as const;

export interface WorkloadPod {
  readonly name: string;
  readonly node: string;
  readonly podIP: string;
}

/** Creates `perNode[node]` pause pods on each node and resolves once all run with an address. */
export const startWorkloadPods = async (
  api: ApiServer,
  perNode: ReadonlyMap<string, number>,
  timeoutMs = 30_000,
): Promise<WorkloadPod[]> => {
  const names: { name: string; node: string }[] = [];
  for (const [node, count] of perNode)
    for (let i = 1; i <= count; i++) {
      const name = `workload-${node}-${i}`;
      api.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: WORKLOAD_NAMESPACE, labels: { ...WORKLOAD_LABEL } },
        spec: { nodeName: node, containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.10' }] },
      });
      names.push({ name, node });
    }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = names.flatMap(({ name, node }) => {
      const status = api.get('pods', WORKLOAD_NAMESPACE, name)?.status as
        { phase?: string; podIP?: string } | undefined;
      return status?.phase === 'Running' && status.podIP ? [{ name, node, podIP: status.podIP }] : [];
    });
    if (running.length === names.length) return running;
    if (Date.now() > deadline)
      throw new Error(`workload pods not Running after ${timeoutMs} ms: ${running.length}/${names.length}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
