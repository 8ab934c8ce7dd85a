// A problem found in user input (net-conf.json, flags, manifests), worded for the person fixing it.

export interface Problem {
  severity: 'error' | 'warning';
  /** Where: "net-conf.json: SubnetMin", "node worker-1: spec.podCIDRs", "--mtu". */
  field: string;
  /** What is wrong, with the values involved. */
  message: string;
  /** What to do about it. */
  fix: string;
}

export const hasErrors = (problems: readonly Problem[]): boolean =>
  problems.some((p) => p.severity === 'error');

/** "error: net-conf.json: SubnetMin: … (fix: …)": one line per problem for plain-text output. */
export const formatProblem = (problem: Problem): string =>
  `${problem.severity}: ${problem.field}: ${problem.message}\n  fix: ${problem.fix}`;
