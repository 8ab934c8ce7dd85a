// Proof that a node (and then the cluster) runs the target backend: the node's backend-type annotation
// and its routes, re-probed over the open node connection and judged by the same routes check doctor
// uses. While the rollout is under way only routes toward already converted peers are held to the target.
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
import { pingRound, podGateway, type PingPeer } from './connectivity.ts';
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
  /** Pairs whose cni0 ping got no reply. */
  readonly unreachablePairs: readonly string[];
  readonly facts: ClusterFacts;
}

export const pingTargets = (nodes: readonly SelectedNode[]) => {
  const peers: PingPeer[] = nodes
    .map((n) => ({ name: n.name, address: podGateway(n.podCIDRs[0]) }))
    .filter((p): p is PingPeer => p.address !== null);
  return nodes.map((node) => ({ node, peers: peers.filter((p) => p.name !== node.name) }));
};

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
  failures.push(...failing(report.findings).map(describeFinding));
  const reachable = ctx.nodes.filter((n) => !unreachable.includes(n.name));
  const rounds = await pingRound(ctx.exec, pingTargets(reachable), 3);
  const unreachablePairs: string[] = [];
  for (const r of rounds) {
    for (const [peer, replies] of r.replies ?? new Map<string, number>())
      if (replies < 1) unreachablePairs.push(`${r.node} -> ${peer}`);
  }
  if (unreachablePairs.length > 0)
    failures.push(`no reply from the peer's cni0 address: ${unreachablePairs.join(', ')}`);
  return { passed: failures.length === 0, failures, unreachable, unreachablePairs, facts };
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
