// Walks the probed nodes for a per-node check: unreachable nodes become skipped findings with the
// reason, reachable ones are handed to the check with their merged view.
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import type { NodeFacts } from '../facts/node-facts.ts';
import { unreachableReason, type FindingBuilder } from './finding.ts';
import { nodeViews, type NodeView } from './topology.ts';
import type { Finding } from './types.ts';

export const forEachProbedNode = (
  facts: ClusterFacts,
  b: FindingBuilder,
  evaluate: (view: NodeView, nodeFacts: NodeFacts, all: readonly NodeView[]) => Finding[],
  views: readonly NodeView[] = nodeViews(facts),
): Finding[] => {
  const findings: Finding[] = [];
  if (facts.nodes.length === 0) return [b.skipped('no node was probed (pass --nodes or an inventory)')];
  for (const view of views) {
    if (!view.probe) continue;
    if (!view.facts) {
      findings.push(b.skipped(unreachableReason(view.probe), view.name));
      continue;
    }
    findings.push(...evaluate(view, view.facts, views));
  }
  return findings;
};

/** Why a section the check needs is empty on a reachable node ("routes: failed (exit 2): ..."). */
export const sectionReason = (nodeFacts: NodeFacts, what: string, sections: readonly string[]): string => {
  const errors = nodeFacts.errors.filter((e) => sections.some((s) => e.section.startsWith(s)));
  const detail = errors.map((e) => `${e.section}: ${e.kind}${e.message ? ` (${e.message})` : ''}`).join('; ');
  return `${what} could not be read on ${nodeFacts.name}${detail ? `: ${detail}` : ''}`;
};
