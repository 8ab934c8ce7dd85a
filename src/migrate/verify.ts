// Proof that a node (and then the cluster) runs the target backend: the node's backend-type annotation
// and its routes, re-probed over the open node connection and judged by the same routes check doctor
// uses. While the rollout is under way only routes toward already converted peers are held to the target.
// Once converged, every node pings pods on its peers by their API pod IPs (connectivity.ts); nodes
// without pods are verified at node level and say so (reachability.ts).
import { selectChecks } from '../checks/registry.ts';
import type { Finding } from '../checks/types.ts';
import { readApiObjects } from '../diagnose/read-api.ts';
import { buildClusterFacts, type ClusterFacts, type NodeProbeOutcome } from '../facts/cluster-facts.ts';
import { gatherNodeFacts, otherNodeAddresses, type NodeGatherResult } from '../facts/gather.ts';
import { ANNOTATIONS } from '../flannel/names.ts';
import type { KubeClient } from '../kube/client.ts';
import type { NodeExec } from '../nodes/exec.ts';
import type { SelectedNode } from '../nodes/select.ts';
import { buildReport } from '../report/report.ts';
import { listPodTargets, type PodTarget } from '../kube/pod-targets.ts';
import { pingRound, podPingTargets } from './connectivity.ts';
import { judgeReachability, type NodeReachability } from './reachability.ts';
import type { TargetBackend } from './target.ts';

export interface VerifyContext {
  readonly kube: KubeClient;
  readonly exec: NodeExec;
  readonly namespace: string;
  readonly nodes: readonly SelectedNode[];
  readonly target: TargetBackend;
  readonly commandTimeoutMs: number;
}

export type NodeVerdict =
  | { readonly status: 'verified'; readonly message: string }
  | { readonly status: 'failed'; readonly message: string; readonly findings: readonly Finding[] }
  | { readonly status: 'unreachable'; readonly message: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const probe = (ctx: VerifyContext, nodes: readonly SelectedNode[]): Promise<NodeGatherResult[]> =>
  gatherNodeFacts(nodes, ctx.exec, {
    timeoutMs: ctx.commandTimeoutMs,
    concurrency: 16,
    peersFor: (node) => otherNodeAddresses(ctx.nodes, node),
  });

const factsFor = async (ctx: VerifyContext, results: readonly NodeProbeOutcome[]): Promise<ClusterFacts> => {
  const api = await readApiObjects(ctx.kube, { namespace: ctx.namespace, logs: false });
  return buildClusterFacts({ api, nodes: results });
};

const failing = (findings: readonly Finding[]) =>
  findings.filter((f) => f.severity === 'fail' || f.severity === 'error');

export const describeFinding = (f: Finding): string =>
  `${f.code}${f.node ? ` ${f.node}` : ''}${f.peer ? ` -> ${f.peer}` : ''}: ${f.message}`;

/** The annotation flanneld wrote for this node, read fresh. */
const backendTypeOf = (facts: ClusterFacts, node: string): string | null =>
  facts.api?.nodes.find((n) => n.name === node)?.flannel.backendType ?? null;

const verifyOnce = async (ctx: VerifyContext, node: SelectedNode): Promise<NodeVerdict> => {
  const [result] = await probe(ctx, [node]);
  const facts = await factsFor(ctx, result ? [result] : []);
  const annotation = backendTypeOf(facts, node.name);
  if (annotation !== ctx.target) {
    return {
      status: 'failed',
      message: `annotation ${ANNOTATIONS.backendType} is ${annotation ?? 'missing'}, expected ${ctx.target}`,
      findings: [],
    };
  }
  if (!result?.ok) {
    return { status: 'unreachable', message: `could not re-probe: ${result?.issue.message ?? 'no result'}` };
  }
  const converted = new Set(
    (facts.api?.nodes ?? []).filter((n) => n.flannel.backendType === ctx.target).map((n) => n.name),
  );
  const report = buildReport(facts, selectChecks({ checks: ['routes'] }));
  const problems = failing(report.findings).filter(
    (f) => f.node === node.name && (!f.peer || converted.has(f.peer)),
  );
  if (problems.length > 0)
    return { status: 'failed', message: problems.map(describeFinding).join('; '), findings: problems };
  const peers = converted.size - 1;
  return { status: 'verified', message: `${ctx.target}, routes to ${peers} converted peer(s) verified` };
};

/** Verifies one node, retrying while flanneld finishes programming (bounded by `withinMs`). */
export const verifyNode = async (
  ctx: VerifyContext,
  node: SelectedNode,
  withinMs: number,
): Promise<NodeVerdict> => {
  const deadline = Date.now() + withinMs;
  for (;;) {
    let verdict: NodeVerdict;
    try {
      verdict = await verifyOnce(ctx, node);
    } catch (error) {
      verdict = { status: 'failed', message: (error as Error).message, findings: [] };
    }
    if (verdict.status !== 'failed' || Date.now() > deadline) return verdict;
    await sleep(500);
  }
};

export interface ConvergenceResult {
  readonly passed: boolean;
  readonly failures: readonly string[];
  /** Nodes that could not be re-probed: not verified, not failed. */
  readonly unreachable: readonly string[];
  /** Pairs whose pod-IP pings got no reply. */
  readonly unreachablePairs: readonly string[];
  /** Per node: verified at pod level, at node level (no pods to reach), or failed. */
  readonly reachability: ReadonlyMap<string, NodeReachability>;
  readonly facts: ClusterFacts;
}

/** How many echo requests each pod IP gets per verification round. */
const VERIFY_PINGS = 3;

const convergeOnce = async (ctx: VerifyContext): Promise<ConvergenceResult> => {
  const results = await probe(ctx, ctx.nodes);
  const facts = await factsFor(ctx, results);
  const unreachable = results.filter((r) => !r.ok).map((r) => r.node);
  const failures: string[] = [];
  for (const n of facts.api?.nodes ?? []) {
    if (n.flannel.backendType !== ctx.target)
      failures.push(
        `${n.name}: annotation ${ANNOTATIONS.backendType} is ${n.flannel.backendType ?? 'missing'}, expected ${ctx.target}`,
      );
  }
  const report = buildReport(facts, selectChecks({ checks: ['routes', 'flannel-health'] }));
  const findings = failing(report.findings);
  failures.push(...findings.map(describeFinding));
  // Pods are read fresh every round: pods come and go while the rollout runs.
  // Without the pods (e.g. no cluster-wide pods list), every node can only be verified at node level.
  let podsError: string | undefined;
  const pods = await listPodTargets(ctx.kube, ctx.nodes).catch((error: Error) => {
    podsError = error.message;
    return new Map<string, PodTarget[]>();
  });
  const reachable = ctx.nodes.filter((n) => !unreachable.includes(n.name));
  const targets = podPingTargets(reachable, pods);
  const rounds = await pingRound(ctx.exec, targets, VERIFY_PINGS);
  const verdict = judgeReachability(
    ctx.nodes.map((n) => n.name),
    pods,
    targets,
    rounds,
  );
  failures.push(...verdict.failures);
  // A node whose own annotation or routes fail is failed, whatever its pings said.
  const reachability = new Map(verdict.nodes);
  if (podsError)
    for (const [node, r] of reachability)
      reachability.set(node, {
        ...r,
        message: `pods could not be listed (${podsError}): verified at node level (annotation, routes)`,
      });
  for (const n of facts.api?.nodes ?? [])
    if (n.flannel.backendType !== ctx.target && reachability.has(n.name))
      reachability.set(n.name, {
        level: 'failed',
        message: `annotation ${ANNOTATIONS.backendType} is ${n.flannel.backendType ?? 'missing'}`,
      });
  for (const f of findings)
    if (f.node && reachability.has(f.node))
      reachability.set(f.node, { level: 'failed', message: describeFinding(f) });
  return {
    passed: failures.length === 0,
    failures,
    unreachable,
    unreachablePairs: verdict.failures,
    reachability,
    facts,
  };
};

/** Every node on the target with correct routes and every pair answering, retried until `withinMs`. */
export const verifyConvergence = async (ctx: VerifyContext, withinMs: number): Promise<ConvergenceResult> => {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const result = await convergeOnce(ctx);
    if (result.passed || Date.now() > deadline) return result;
    await sleep(1_000);
  }
};
