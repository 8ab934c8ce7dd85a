// kubelet's own admission of a pod bound to its node (pkg/kubelet/lifecycle/predicate.go): besides
// the scheduler's general predicates it checks only NoExecute taints, since a pod pinned by nodeName
// never met the scheduler. A rejected pod is failed at once by kubelet.go rejectPod: a Warning event
// with the predicate's reason and message, and status phase Failed, that reason, "Pod was rejected: …".
import type { KubeObject, Taint } from '../cluster-seed.ts';
import { tolerates, type Toleration } from './scheduling.ts';

export interface Rejection {
  readonly reason: string;
  readonly message: string;
}

/** tainttoleration.Name and ErrReasonNotMatch, as PredicateFailureError.Error() joins them. */
const TAINT_REJECTION: Rejection = {
  reason: 'TaintToleration',
  message: "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
};

/** Why kubelet on `node` refuses the pod, or undefined when it admits it. */
export const admissionRejection = (pod: KubeObject, node: KubeObject | undefined): Rejection | undefined => {
  // Static pods (seen in the API as mirror pods) skip the taint check.
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return undefined;
  const taints = (node?.spec as { taints?: Taint[] } | undefined)?.taints ?? [];
  const tolerations = (pod.spec as { tolerations?: Toleration[] } | undefined)?.tolerations ?? [];
  const untolerated = taints.some(
    (taint) => taint.effect === 'NoExecute' && !tolerations.some((t) => tolerates(t, taint)),
  );
  return untolerated ? TAINT_REJECTION : undefined;
};
