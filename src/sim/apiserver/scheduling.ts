// Which nodes a DaemonSet pod belongs on: nodeSelector, required node affinity, and taints.
import type { KubeObject, Taint } from '../cluster-seed.ts';

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}
export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
}
export interface PodSpecLike {
  nodeSelector?: Record<string, string>;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] };
    };
  };
  tolerations?: Toleration[];
  hostNetwork?: boolean;
}

/** What the DaemonSet controller adds to every pod it creates, so node problems don't evict it. */
export const DAEMONSET_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
const HOST_NETWORK_TOLERATION: Toleration = {
  key: 'node.kubernetes.io/network-unavailable',
  operator: 'Exists',
  effect: 'NoSchedule',
};

export const daemonPodTolerations = (spec: PodSpecLike): Toleration[] => {
  const tolerations = [...(spec.tolerations ?? [])];
  const extra = spec.hostNetwork
    ? [...DAEMONSET_TOLERATIONS, HOST_NETWORK_TOLERATION]
    : DAEMONSET_TOLERATIONS;
  for (const t of extra)
    if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push(t);
  return tolerations;
};

const matchRequirement = (r: NodeSelectorRequirement, value: string | undefined): boolean => {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
};

/** k8s.io/api/core/v1 toleration.go ToleratesTaint. */
export const tolerates = (toleration: Toleration, taint: Taint): boolean => {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (!toleration.key) return toleration.operator === 'Exists';
  if (toleration.key !== taint.key) return false;
  return toleration.operator === 'Exists' || (toleration.value ?? '') === (taint.value ?? '');
};

export const fitsNode = (spec: PodSpecLike, node: KubeObject): boolean => {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms =
    spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length > 0) {
    const anyTerm = terms.some(
      (term) =>
        (term.matchExpressions ?? []).every((r) => matchRequirement(r, labels[r.key])) &&
        (term.matchFields ?? []).every((r) =>
          matchRequirement(r, r.key === 'metadata.name' ? node.metadata?.name : undefined),
        ),
    );
    if (!anyTerm) return false;
  }
  const taints = ((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []).filter(
    (t) => t.effect !== 'PreferNoSchedule',
  );
  const tolerations = daemonPodTolerations(spec);
  return taints.every((taint) => tolerations.some((t) => tolerates(t, taint)));
};
