// The gate before any change: the `doctor --for` checks against the target backend, the routes as they
// are now (against the current backend), every node reachable, and a DaemonSet that can roll at all.
import { selectChecks } from '../checks/registry.ts';
import { comment, nameArg, sh, type Remediation } from '../checks/shell-command.ts';
import type { Finding } from '../checks/types.ts';
import { HOST_GW_PREFLIGHT_CHECKS } from '../diagnose/doctor.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import { buildReport } from '../report/report.ts';
import type { ForcedFailure } from './state.ts';
import type { MigrationTarget } from './target.ts';

export interface PreflightFailure extends ForcedFailure {
  readonly remediation?: Remediation;
  /** --force cannot help: the rollout itself could not proceed. */
  readonly blocking: boolean;
}

export interface PreflightResult {
  readonly passed: boolean;
  readonly failures: readonly PreflightFailure[];
  /** Warnings of the gate's checks (e.g. a cloud setting that cannot be read): shown, never refusing. */
  readonly warnings: readonly PreflightFailure[];
  /** Checks run, for the result. */
  readonly checks: readonly string[];
}

const asFailure = (f: Finding): PreflightFailure => ({
  code: f.code,
  ...(f.node ? { node: f.node } : {}),
  ...(f.peer ? { peer: f.peer } : {}),
  message: f.message,
  ...(f.remediation ? { remediation: f.remediation } : {}),
  blocking: false,
});

export const runPreflight = (facts: ClusterFacts, target: MigrationTarget): PreflightResult => {
  const targetFacts: ClusterFacts = {
    ...facts,
    expectedBackend: {
      value: target.type,
      source: 'flag',
      reason: `migrate --to ${target.type}: can every node pair use it?`,
    },
  };
  const gate = buildReport(targetFacts, selectChecks({ checks: [...HOST_GW_PREFLIGHT_CHECKS] }));
  // Routes are judged against what runs now: a broken data path before the change is not ours to hide.
  const now = buildReport(facts, selectChecks({ checks: ['routes'] }));
  const failures: PreflightFailure[] = [...gate.findings, ...now.findings]
    .filter((f) => f.severity === 'fail' || f.severity === 'error')
    .map((f) =>
      f.code.startsWith('l2-adjacency/') && target.type === 'host-gw'
        ? {
            ...asFailure(f),
            remediation:
              sh`flannelctl migrate --to vxlan --direct-routing  # host-gw routes where nodes share L2, vxlan for ${comment(`${f.node ?? ''}${f.peer ? ` <-> ${f.peer}` : ''}`)}`
                .text,
          }
        : asFailure(f),
    );
  for (const node of facts.nodes.filter((n) => !n.facts)) {
    failures.push({
      code: 'migrate/node-unreachable',
      node: node.name,
      message: `${node.name} could not be probed before the change (${node.issue?.message ?? 'no facts'}); its routes could not be verified during the migration`,
      blocking: false,
    });
  }
  const ds = facts.api?.flannel?.daemonSet;
  if (!ds) {
    failures.push({
      code: 'migrate/no-daemonset',
      message: 'no flannel DaemonSet was found',
      blocking: true,
    });
  } else if (ds.updateStrategy !== 'RollingUpdate') {
    failures.push({
      code: 'migrate/update-strategy',
      message: `daemonset ${ds.namespace}/${ds.name} uses updateStrategy ${ds.updateStrategy}: a restart would not replace any pod, so flanneld would never read the new backend`,
      remediation:
        sh`kubectl -n ${nameArg(ds.namespace)} patch ds ${nameArg(ds.name)} -p '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}}}}'`
          .text,
      blocking: true,
    });
  }
  return {
    passed: failures.length === 0,
    failures,
    warnings: gate.findings.filter((f) => f.severity === 'warn').map(asFailure),
    checks: [...gate.checks.map((c) => c.id), 'routes', 'daemonset-update-strategy'],
  };
};

const format = (f: PreflightFailure, mark: string): string =>
  `  ${mark} ${f.code}${f.node ? ` ${f.node}` : ''}${f.peer ? ` <-> ${f.peer}` : ''}: ${f.message}${f.remediation ? `\n      fix: ${f.remediation}` : ''}`;

export const formatFailure = (f: PreflightFailure): string => format(f, '✗');
export const formatWarning = (f: PreflightFailure): string => format(f, '!');

/** The `preflight.warnings` of a MigrationResult (absent when there are none). */
export const warningsOf = (p: PreflightResult): { warnings?: ForcedFailure[] } =>
  p.warnings.length > 0
    ? {
        warnings: p.warnings.map(({ code, node, peer, message }) => ({
          code,
          ...(node ? { node } : {}),
          ...(peer ? { peer } : {}),
          message,
        })),
      }
    : {};
