// Small builders so every check spells findings the same way (code = `<check>/<suffix>`).
import type { ClusterNode } from '../facts/cluster-facts.ts';
import { quoted, sh, Shell } from './shell-command.ts';
import type { Finding, Severity } from './types.ts';

export interface FindingInit {
  readonly node?: string | undefined;
  readonly peer?: string | undefined;
  readonly message: string;
  readonly evidence?: readonly string[];
  /** Built with `sh`, from validated values only. */
  readonly remediation?: Shell | null | undefined;
}

export interface FindingBuilder {
  (code: string, severity: Severity, init: FindingInit): Finding;
  pass(init: FindingInit): Finding;
  skipped(message: string, node?: string): Finding;
}

export const findingBuilder = (check: string): FindingBuilder => {
  const make = (code: string, severity: Severity, init: FindingInit): Finding => {
    // The type says so already; this holds for callers that cast their way around it.
    if (init.remediation && !(init.remediation instanceof Shell)) {
      throw new Error(`${check}/${code}: a remediation must be built with sh`);
    }
    return makeFinding(code, severity, init);
  };
  const makeFinding = (code: string, severity: Severity, init: FindingInit): Finding => ({
    check,
    code: `${check}/${code}`,
    severity,
    ...(init.node !== undefined ? { node: init.node } : {}),
    ...(init.peer !== undefined ? { peer: init.peer } : {}),
    message: init.message,
    evidence: init.evidence ?? [],
    ...(init.remediation ? { remediation: init.remediation.text } : {}),
  });
  return Object.assign(make, {
    pass: (init: FindingInit) => make('ok', 'pass', init),
    skipped: (message: string, node?: string) => make('skipped', 'skipped', { node, message }),
  });
};

/** The skip a per-node check reports for a node whose facts could not be gathered. */
export const unreachableReason = (node: ClusterNode): string =>
  node.issue
    ? `no facts from ${node.name}: ${node.issue.kind}: ${node.issue.message}`
    : `no facts from ${node.name}`;

/** "a, b, c and 3 more": lists stay one line however large the cluster. */
export const listSome = (items: readonly string[], limit = 5): string =>
  items.length <= limit
    ? items.join(', ')
    : `${items.slice(0, limit).join(', ')} and ${items.length - limit} more`;

/**
 * A sysctl key for `sysctl -w`: interface names containing dots (flannel.1, eth0.100) must use the
 * slash form, since sysctl treats every dot as a separator.
 */
export const sysctlKey = (dotted: string): string => {
  const m = /^net\.ipv4\.conf\.(.+)\.(rp_filter)$/.exec(dotted);
  if (m && m[1]!.includes('.')) return `net/ipv4/conf/${m[1]}/${m[2]}`;
  return dotted;
};

/** `sysctl -w` now plus a drop-in under /etc/sysctl.d/ so it survives a reboot. */
export const sysctlRemediation = (
  settings: ReadonlyArray<readonly [string, string | number]>,
  file: string,
): Shell => {
  // Keys hold interface names from the node (legal there: `;`, `$`, `%`): each word is quoted, and
  // `%` doubled so printf prints it.
  const assignments = settings.map(([k, v]) => quoted(`${sysctlKey(k)}=${v}`));
  const now = assignments.reduce((acc, a) => sh`${acc} ${a}`, sh`sysctl -w`);
  const lines = settings.map(([k, v]) => `${sysctlKey(k)} = ${v}`.replaceAll('%', '%%')).join('\\n');
  return sh`${now} && printf ${quoted(`${lines}\\n`)} > /etc/sysctl.d/${quoted(file)}`;
};
