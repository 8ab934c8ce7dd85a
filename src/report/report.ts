// The versioned result every diagnosing command returns: one shape for text, JSON and JUnit, and the
// contract CI consumes (`-o json`). buildReport runs the selected checks over the gathered facts;
// exitCodeFor maps it to the process exit code.
import type { ClusterFacts, ExpectedBackend } from '../facts/cluster-facts.ts';
import { nodeViews } from '../checks/topology.ts';
import type { L2Matrix } from '../checks/l2-adjacency.ts';
import type { NodeStatus } from '../diagnose/node-status.ts';
import type { TuneSettingReport } from '../checks/tune.ts';
import {
  SEVERITIES,
  worstSeverity,
  type Check,
  type Finding,
  type Need,
  type Severity,
} from '../checks/types.ts';
import { ExitCode, type ExitCodeValue } from '../errors.ts';

export const REPORT_API_VERSION = 'flannelctl/v1';

export const REPORT_KINDS = [
  'DoctorReport',
  'VerifyL2Report',
  'RpFilterReport',
  'MtuProbeReport',
  'TuneReport',
  'StatusReport',
  'MigratePreflightReport',
] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export type Summary = Record<Severity, number>;

export interface ReportCheck {
  readonly id: string;
  readonly title: string;
  /** The worst severity among its findings ('skipped' when it only skipped). */
  readonly status: Severity;
}

export interface ReportNode {
  readonly name: string;
  /** False when the node could not be probed: its per-node checks were skipped (report incomplete). */
  readonly reachable: boolean;
  readonly issue?: { readonly kind: string; readonly message: string; readonly hint?: string };
}

export interface ReportCluster {
  readonly namespace: string | null;
  readonly daemonSet: string | null;
  readonly image: string | null;
  readonly network: string | null;
  /** Nodes the API lists. */
  readonly nodeCount: number;
}

export interface Report {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: ReportKind;
  /** RFC 3339. */
  readonly generatedAt: string;
  /** Absent when running from an inventory without the API. */
  readonly cluster?: ReportCluster;
  readonly expectedBackend: ExpectedBackend;
  /** Findings per severity. */
  readonly summary: Summary;
  readonly checks: readonly ReportCheck[];
  /** Every node known from the API or the probe set; API-only nodes count as reachable (not probed by choice). */
  readonly nodes: readonly ReportNode[];
  readonly findings: readonly Finding[];
  /** verify-l2: the node×node verdicts and the L2 segments. */
  readonly l2Matrix?: L2Matrix;
  /** status: one row per node. */
  readonly nodeStatus?: readonly NodeStatus[];
  /** tune: every setting of the tuning guide with its verdict, reason and the nodes' values. */
  readonly tuneSettings?: readonly TuneSettingReport[];
}

export interface BuildReportOptions {
  readonly kind?: ReportKind;
  readonly now?: Date;
}

/** Why a check cannot run on these facts, or null when it can. */
export const missingNeed = (need: Need, facts: ClusterFacts): string | null => {
  switch (need) {
    case 'api':
      return facts.api ? null : 'no Kubernetes API facts (running from an inventory only)';
    case 'flannel':
      return facts.api?.flannel ? null : 'flannel is not installed (no DaemonSet or ConfigMap found)';
    case 'nodes':
      return facts.nodes.length > 0 ? null : 'no node was probed (pass --nodes or an inventory)';
    case 'logs':
      return facts.api?.flannel?.pods.some((p) => p.logLines !== null)
        ? null
        : 'flanneld logs were not gathered';
  }
};

const runCheck = (check: Check, facts: ClusterFacts): Finding[] => {
  for (const need of check.needs) {
    const reason = missingNeed(need, facts);
    if (reason) {
      return [
        { check: check.id, code: `${check.id}/skipped`, severity: 'skipped', message: reason, evidence: [] },
      ];
    }
  }
  try {
    return [...check.evaluate(facts)];
  } catch (error) {
    return [
      {
        check: check.id,
        code: `${check.id}/internal-error`,
        severity: 'error',
        message: `The ${check.id} check failed: ${(error as Error)?.message ?? String(error)}`,
        evidence: (error as Error)?.stack?.split('\n').slice(0, 4) ?? [],
      },
    ];
  }
};

export const summarize = (findings: readonly Finding[]): Summary => {
  const summary = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Summary;
  for (const f of findings) summary[f.severity]++;
  return summary;
};

export const buildReport = (
  facts: ClusterFacts,
  checks: readonly Check[],
  options: BuildReportOptions = {},
): Report => {
  const findings: Finding[] = [];
  const reportChecks: ReportCheck[] = [];
  for (const check of checks) {
    const own = runCheck(check, facts);
    findings.push(...own);
    reportChecks.push({
      id: check.id,
      title: check.title,
      status: worstSeverity(own.map((f) => f.severity)),
    });
  }
  const flannel = facts.api?.flannel;
  return {
    apiVersion: REPORT_API_VERSION,
    kind: options.kind ?? 'DoctorReport',
    generatedAt: (options.now ?? new Date()).toISOString(),
    ...(facts.api
      ? {
          cluster: {
            namespace: flannel?.namespace ?? null,
            daemonSet: flannel?.daemonSet?.name ?? null,
            image: flannel?.daemonSet?.image ?? null,
            network: flannel?.netConf?.Network ?? null,
            nodeCount: facts.api.nodes.length,
          },
        }
      : {}),
    expectedBackend: facts.expectedBackend,
    summary: summarize(findings),
    checks: reportChecks,
    nodes: nodeViews(facts).map((v) =>
      v.probe && !v.facts
        ? {
            name: v.name,
            reachable: false,
            ...(v.probe.issue
              ? {
                  issue: {
                    kind: v.probe.issue.kind,
                    message: v.probe.issue.message,
                    ...(v.probe.issue.hint ? { hint: v.probe.issue.hint } : {}),
                  },
                }
              : {}),
          }
        : { name: v.name, reachable: true },
    ),
    findings,
  };
};

export interface ExitCodeOptions {
  /** 'warn' (--fail-on warn) also fails on warnings. Default 'fail'. */
  readonly failOn?: 'fail' | 'warn';
}

/**
 * 1 when a finding fails (fail, or warn with failOn 'warn'); otherwise 3 when facts are incomplete (a
 * node could not be probed, or a check errored); otherwise 0. Failing wins over incomplete: what was
 * seen is already broken, and the missing facts cannot make it healthy.
 */
export const exitCodeFor = (report: Report, options: ExitCodeOptions = {}): ExitCodeValue => {
  const failing = new Set<Severity>(options.failOn === 'warn' ? ['fail', 'warn'] : ['fail']);
  if (report.findings.some((f) => failing.has(f.severity))) return ExitCode.failed;
  if (report.nodes.some((n) => !n.reachable) || report.findings.some((f) => f.severity === 'error')) {
    return ExitCode.incomplete;
  }
  return ExitCode.ok;
};
