// What a result is about: the backend the two nodes actually run (flanneld's backend-type annotation,
// which a ConfigMap edit alone does not change), flannel's version, and per node kernel and MTU.
import { KubeApiError } from '../kube/api-errors.ts';
import { discoverFlannel } from '../kube/discover.ts';
import type { KubeClient } from '../kube/client.ts';
import { ANNOTATIONS, FLANNEL_CONTAINER_NAME, NET_CONF_KEY } from '../flannel/names.ts';
import type { NodeExec, NodeTarget } from '../nodes/exec.ts';
import type { PickableNode } from './pick-nodes.ts';

export interface FlannelInfo {
  readonly backend: string | null;
  readonly version: string | null;
  /** Where flannel runs (undefined when not found): node-access and host-mode pods go there. */
  readonly namespace?: string;
  /** The flannel container's image: kube-exec's and daemonset's default pod image. */
  readonly image?: string;
  readonly warnings: readonly string[];
}

export const flannelInfo = async (
  kube: KubeClient,
  namespace: string | undefined,
  nodes: readonly PickableNode[],
): Promise<FlannelInfo> => {
  const warnings: string[] = [];
  // Without flannel the result just records less; a refusal is the caller's RBAC, which it must hear of.
  const install = await discoverFlannel(kube, namespace).catch((error: unknown) => {
    if (error instanceof KubeApiError && error.status === 403) throw error;
    return undefined;
  });
  const container = (
    install?.daemonSet.spec?.template?.spec as { containers?: { name: string; image?: string }[] } | undefined
  )?.containers?.find((c) => c.name === FLANNEL_CONTAINER_NAME);
  const version = container?.image?.split('@')[0]?.split('/').pop()?.split(':')[1] ?? null;
  let configured: string | null = null;
  try {
    const netConf = JSON.parse(install?.configMap?.data?.[NET_CONF_KEY] ?? '{}') as {
      Backend?: { Type?: string };
    };
    configured = netConf.Backend?.Type ?? null;
  } catch {
    warnings.push(`the flannel ConfigMap's ${NET_CONF_KEY} is not JSON`);
  }
  const running = [...new Set(nodes.map((n) => n.metadata?.annotations?.[ANNOTATIONS.backendType] ?? null))];
  if (running.length > 1) warnings.push(`the two nodes run different backends: ${running.join(' and ')}`);
  const backend = running.length === 1 && running[0] ? running[0] : configured;
  if (configured && backend && configured !== backend)
    warnings.push(
      `the ConfigMap says ${configured} but the nodes still run ${backend} (restart the DaemonSet)`,
    );
  return {
    backend,
    version,
    ...(install ? { namespace: install.namespace } : {}),
    ...(container?.image ? { image: container.image } : {}),
    warnings,
  };
};

export interface HostInfo {
  readonly kernel: string | null;
  readonly mtu: number | null;
}

/** `uname -r` and FLANNEL_MTU from subnet.env, in one round trip; nulls when the node says nothing. */
export const hostInfo = async (exec: NodeExec, node: NodeTarget, timeoutMs: number): Promise<HostInfo> => {
  const r = await exec.run(node, 'uname -r; cat /run/flannel/subnet.env 2>/dev/null; true\n', { timeoutMs });
  const [kernel] = r.stdout.split('\n');
  const mtu = /^FLANNEL_MTU=(\d+)$/m.exec(r.stdout);
  return { kernel: kernel?.trim() || null, mtu: mtu ? Number(mtu[1]) : null };
};
