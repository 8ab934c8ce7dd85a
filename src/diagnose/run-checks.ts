// The common shape of every diagnosis command: gather the cluster once, run the selected pure checks
// over the facts, and hand back both (the facts for extra output such as the L2 matrix, the open node
// connections for fixes). doctor, verify-l2, check-rpfilter and tune start here.
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import type { Check } from '../checks/types.ts';
import type { ExpectedBackend } from '../facts/cluster-facts.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { buildReport, type Report, type ReportKind } from '../report/report.ts';
import { gatherCluster, type GatheredCluster } from './gather-cluster.ts';

export interface CheckRunOptions {
  readonly globals: GlobalOptions;
  readonly access: NodeAccessOptions;
  readonly io: Io;
  readonly checks: readonly Check[];
  readonly kind: ReportKind;
  /** --backend: what the nodes should run when there is no ConfigMap to say so. */
  readonly backend?: string;
  /** Replaces the backend the facts expect (doctor --for host-gw). */
  readonly expectedBackend?: ExpectedBackend;
}

export interface CheckRun {
  readonly gathered: GatheredCluster;
  readonly report: Report;
}

/** Gathers and checks; the caller closes `gathered.exec`. */
export const gatherAndCheck = async (options: CheckRunOptions): Promise<CheckRun> => {
  const gathered = await gatherCluster({
    globals: options.globals,
    access: options.access,
    io: options.io,
    logs: options.checks.some((c) => c.id === 'flannel-logs'),
    events: options.checks.some((c) => c.id === 'pod-sandbox'),
    ...(options.backend ? { backend: options.backend } : {}),
  });
  const facts = options.expectedBackend
    ? { ...gathered.facts, expectedBackend: options.expectedBackend }
    : gathered.facts;
  const report = buildReport(facts, options.checks, { kind: options.kind });
  return { gathered: { ...gathered, facts }, report };
};

/** gatherAndCheck for read-only commands: node connections are closed before returning. */
export const checkCluster = async (options: CheckRunOptions): Promise<CheckRun> => {
  const run = await gatherAndCheck(options);
  await run.gathered.exec.close();
  return run;
};
