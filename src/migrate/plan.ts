// The migration as a plan an operator can read before anything changes: the net-conf.json diff, the
// steps, the mixed-backend window of the rolling restart, an estimated duration, and the exact requests.
import { createTwoFilesPatch } from 'diff';
import type { NetConf } from '../flannel/net-conf.ts';
import { serializeNetConf, withBackend } from '../flannel/net-conf.ts';
import { comment, sh } from '../checks/shell-command.ts';
import { byName } from '../facts/cluster-facts.ts';
import type { PlannedRequest } from './requests.ts';
import { backendLabel, targetBackend, targetLabel, type MigrationTarget } from './target.ts';

/**
 * Documented estimate per node: the old pod terminates, the new one starts flanneld (image already on
 * the node), passes readiness, and flannelctl re-probes the node and checks its routes.
 */
export const PER_NODE_ESTIMATE_SECONDS = 20;
/** Backup, config change, final verification and connectivity round. */
const FIXED_ESTIMATE_SECONDS = 15;

export interface WindowStep {
  /** 1-based step of the rolling restart. */
  readonly step: number;
  /** How many nodes run each backend while this step's pods restart. */
  readonly onTarget: number;
  readonly onSource: number;
}

export interface MigrationPlan {
  readonly namespace: string;
  readonly configMap: string;
  readonly daemonSet: string;
  readonly from: string;
  readonly to: string;
  readonly nodes: readonly string[];
  readonly maxUnavailable: number;
  readonly currentText: string;
  readonly desiredText: string;
  readonly diff: string;
  readonly steps: readonly string[];
  readonly window: readonly WindowStep[];
  readonly estimatedSeconds: number;
  readonly requests: readonly PlannedRequest[];
  readonly nodeCommands: readonly string[];
}

export interface PlanInput {
  readonly namespace: string;
  readonly configMap: string;
  readonly daemonSet: string;
  readonly currentText: string;
  readonly current: NetConf;
  readonly target: MigrationTarget;
  readonly nodes: readonly string[];
  readonly maxUnavailable: number;
  readonly cleanup: boolean;
  readonly watch: boolean;
  readonly requests: readonly PlannedRequest[];
}

/**
 * maxUnavailable as the DaemonSet controller scales it: a percentage of the desired pods rounded up
 * (kubernetes pkg/controller/daemon/util/daemonset_util.go UnavailableCount, roundUp=true); 0 becomes 1
 * (daemon/update.go updatedDesiredNodeCounts, without maxSurge).
 */
export const effectiveMaxUnavailable = (value: unknown, desired: number): number => {
  if (typeof value === 'number') return Math.max(1, Math.floor(value));
  if (typeof value === 'string' && /^\d+%$/.test(value))
    return Math.max(1, Math.ceil((Number(value.slice(0, -1)) * desired) / 100));
  return 1;
};

export const desiredNetConfText = (current: NetConf, target: MigrationTarget): string =>
  serializeNetConf(withBackend(current, targetBackend(target, current)));

export const buildPlan = (input: PlanInput): MigrationPlan => {
  const from = backendLabel(input.current.Backend);
  const to = targetLabel(input.target);
  const desiredText = desiredNetConfText(input.current, input.target);
  const ref = `${input.namespace}/${input.configMap}`;
  const diff = createTwoFilesPatch(
    `live/${ref} net-conf.json`,
    `flannelctl/${ref} net-conf.json`,
    input.currentText,
    desiredText,
    '',
    '',
    { context: 3 },
  );
  const nodes = [...input.nodes].sort(byName);
  const batch = Math.min(Math.max(1, input.maxUnavailable), Math.max(1, nodes.length));
  const window: WindowStep[] = [];
  for (let done = 0, step = 1; done < nodes.length; done += batch, step++) {
    window.push({ step, onTarget: done, onSource: nodes.length - done });
  }
  const stepsNeeded = window.length;
  const toHostGw = input.target.type === 'host-gw';
  const steps = [
    'Preflight: the `doctor --for` checks on every node (L2 adjacency, host-gw prerequisites, rp_filter incl. the mixed-backend window, kernel, flannel health) plus routes healthy now and a RollingUpdate DaemonSet',
    `Back up ConfigMap ${ref} to a local file and to the annotation flannelctl.io/net-conf-backup`,
    `Change net-conf.json Backend ${from} -> ${to} (PUT with resourceVersion; on 409 re-read, re-check, retry)`,
    `Restart daemonset ${input.namespace}/${input.daemonSet} like \`kubectl rollout restart\`; flanneld reads net-conf.json only at start`,
    `Wait for each node's new flannel pod, then verify that node: backend-type annotation ${input.target.type} and its routes`,
    `Verify convergence: every node on ${input.target.type}, ${toHostGw ? 'every route via the peer public IP on the uplink and none via flannel.1' : 'every route via flannel.1 with its neighbour and fdb entries'}, and a ping from every node to pods on its peers (their pod IPs); nodes without pods are verified at node level`,
    ...(input.watch
      ? ['Watch connectivity during the whole rollout: one ping per node pair per second']
      : []),
    ...(toHostGw
      ? [
          input.cleanup
            ? 'Clean up: `ip link del flannel.1` on every node (its neighbour and fdb entries go with it); list pods still at the old MTU'
            : 'Cleanup of flannel.1 (asked on a terminal, or with --cleanup); list pods still at the old MTU',
        ]
      : ['List pods still at the old MTU']),
    'On a stalled rollout (--timeout) or failed verification: restore the backup byte for byte, restart, verify, exit 1',
  ];
  return {
    namespace: input.namespace,
    configMap: input.configMap,
    daemonSet: input.daemonSet,
    from,
    to,
    nodes,
    maxUnavailable: batch,
    currentText: input.currentText,
    desiredText,
    diff,
    steps,
    window,
    estimatedSeconds: stepsNeeded * PER_NODE_ESTIMATE_SECONDS + FIXED_ESTIMATE_SECONDS,
    requests: input.requests,
    // Printed for the operator: the node name stays inside the comment, on one line.
    nodeCommands:
      toHostGw && input.cleanup ? nodes.map((n) => sh`ip link del flannel.1  # on ${comment(n)}`.text) : [],
  };
};

const formatDuration = (seconds: number): string =>
  seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;

export const renderPlanText = (plan: MigrationPlan): string => {
  const lines: string[] = [];
  lines.push(
    `Migration plan: ${plan.from} -> ${plan.to} on ${plan.nodes.length} node(s), flannel in ${plan.namespace} (daemonset ${plan.daemonSet}, configmap ${plan.configMap})`,
    '',
    'net-conf.json:',
    plan.diff.split('\n').slice(2).join('\n').trimEnd(),
    '',
    'Steps:',
    ...plan.steps.map((s, i) => `  ${i + 1}. ${s}`),
    '',
    `Mixed-backend window (RollingUpdate, maxUnavailable ${plan.maxUnavailable}): ${plan.maxUnavailable === 1 ? 'one node at a time' : `${plan.maxUnavailable} nodes at a time`}, in the order the DaemonSet controller picks:`,
    ...plan.window.map(
      (w) =>
        `  step ${w.step}: ${w.onTarget} node(s) already on ${plan.to}, ${w.onSource} still on ${plan.from} while the next ${Math.min(plan.maxUnavailable, w.onSource)} restart(s)`,
    ),
    `  then all ${plan.nodes.length} on ${plan.to}. Pairs across the two backends keep using the old routes (flanneld ignores peers of the other type), so flannel.1 must stay until every node has converted.`,
    '',
    `Estimated duration: ${formatDuration(plan.estimatedSeconds)} (${PER_NODE_ESTIMATE_SECONDS}s per restart step x ${plan.window.length} + ${FIXED_ESTIMATE_SECONDS}s).`,
  );
  return `${lines.join('\n')}\n`;
};

export const estimateText = formatDuration;
