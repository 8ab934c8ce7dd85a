// The contract between facts, checks and the report: a check is a pure function from ClusterFacts to
// findings; findings carry stable codes (CI allow-lists them), the proof and the fix.
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import type { Remediation } from './shell-command.ts';

/**
 * pass: checked and fine; info: worth knowing, nothing wrong; warn: likely to hurt; fail: broken;
 * error: the check itself could not run (it threw); skipped: the facts it needs are missing or the
 * check does not apply; the reason is the message.
 */
export type Severity = 'pass' | 'info' | 'warn' | 'fail' | 'error' | 'skipped';

export const SEVERITIES: readonly Severity[] = ['pass', 'info', 'warn', 'fail', 'error', 'skipped'];

/** Facts a check cannot do without; the runner skips it with a reason when they are absent. */
export type Need = 'api' | 'flannel' | 'nodes' | 'logs';

export interface Finding {
  /** The check id, e.g. 'rp-filter'. */
  readonly check: string;
  /** Stable, e.g. 'rp-filter/strict-asymmetric'. */
  readonly code: string;
  readonly severity: Severity;
  readonly node?: string;
  readonly peer?: string;
  readonly message: string;
  /** The lines that prove it: a route, a sysctl, a log line. */
  readonly evidence: readonly string[];
  /** What an operator would type, with the real node, interface and values filled in. */
  readonly remediation?: Remediation;
}

export interface Check {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly needs: readonly Need[];
  evaluate(facts: ClusterFacts): readonly Finding[];
}

/** Worst first: the order a summary picks a check's status by. */
const RANK: Record<Severity, number> = { error: 5, fail: 4, warn: 3, info: 2, pass: 1, skipped: 0 };

export const worstSeverity = (severities: Iterable<Severity>): Severity => {
  let worst: Severity = 'skipped';
  for (const s of severities) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
};

export const severityRank = (s: Severity): number => RANK[s];
