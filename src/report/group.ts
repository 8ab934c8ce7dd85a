// Groups identical findings across nodes so a 1,000-node report stays a screenful: findings that differ
// only by node (and peer) name merge; a code with many distinct variants collapses into one group.
import type { Finding, Severity } from '../checks/types.ts';

export interface FindingGroup {
  readonly check: string;
  readonly code: string;
  readonly severity: Severity;
  /** The first finding, shown in full as the example. */
  readonly example: Finding;
  readonly count: number;
  /** Distinct nodes, in order of appearance. */
  readonly nodes: readonly string[];
  readonly peers: readonly string[];
}

/** Above this many variants of one code (e.g. a different podCIDR per peer), they collapse into one group. */
export const MAX_VARIANTS_PER_CODE = 3;

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The message with its node and peer names masked, so the same problem on many nodes compares equal. */
const shapeOf = (f: Finding): string => {
  let text = `${f.code}\u0000${f.severity}\u0000${f.message}`;
  for (const [name, mask] of [
    [f.node, '<node>'],
    [f.peer, '<peer>'],
  ] as const) {
    if (name) text = text.replace(new RegExp(`(?<![\\w-])${escape(name)}(?![\\w-]|\\.\\w)`, 'g'), mask);
  }
  return text;
};

interface MutableGroup {
  check: string;
  code: string;
  severity: Severity;
  example: Finding;
  count: number;
  nodes: Set<string>;
  peers: Set<string>;
}

const add = (g: MutableGroup, f: Finding): void => {
  g.count++;
  if (f.node) g.nodes.add(f.node);
  if (f.peer) g.peers.add(f.peer);
};

const fresh = (f: Finding): MutableGroup => ({
  check: f.check,
  code: f.code,
  severity: f.severity,
  example: f,
  count: 0,
  nodes: new Set(),
  peers: new Set(),
});

export const groupFindings = (findings: readonly Finding[]): FindingGroup[] => {
  const byShape = new Map<string, MutableGroup>();
  for (const f of findings) {
    const key = shapeOf(f);
    let g = byShape.get(key);
    if (!g) byShape.set(key, (g = fresh(f)));
    add(g, f);
  }
  const byCode = new Map<string, MutableGroup[]>();
  for (const g of byShape.values()) {
    const key = `${g.code}\u0000${g.severity}`;
    byCode.set(key, [...(byCode.get(key) ?? []), g]);
  }
  const out: MutableGroup[] = [];
  for (const groups of byCode.values()) {
    if (groups.length <= MAX_VARIANTS_PER_CODE) {
      out.push(...groups);
      continue;
    }
    const merged = fresh(groups[0]!.example);
    for (const g of groups) {
      merged.count += g.count;
      g.nodes.forEach((n) => merged.nodes.add(n));
      g.peers.forEach((p) => merged.peers.add(p));
    }
    out.push(merged);
  }
  return out.map((g) => ({ ...g, nodes: [...g.nodes], peers: [...g.peers] }));
};
