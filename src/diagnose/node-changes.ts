// The flow of a command that changes sysctls on nodes (check-rpfilter --fix, tune --apply): refuse
// early when no one can confirm; gather and check; print the exact commands (--dry-run stops there);
// confirm; change every reachable node that needs it; gather again and report what is true now.
import { listSome } from '../checks/finding.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { ExitCode, ResultExit } from '../errors.ts';
import { printJson } from '../report/print-json.ts';
import { printYaml } from '../report/print-yaml.ts';
import { REPORT_API_VERSION } from '../report/report.ts';
import { confirmChanges, requireConfirmable } from './confirm.ts';
import { writeReport } from './output.ts';
import type { CheckRun } from './run-checks.ts';
import {
  applySysctlChanges,
  formatSysctlDryRun,
  SYSCTL_DIR,
  sysctlChangeCommands,
  type SysctlChange,
} from './sysctl-change.ts';

export interface NodeChangeFlow {
  /** The flag that asks for the change (--fix, --apply), for messages. */
  readonly flag: string;
  readonly dryRun: boolean;
  readonly globals: GlobalOptions;
  readonly access: NodeAccessOptions;
  readonly io: Io;
  /** Gathers and checks, leaving the node connections open. */
  readonly gather: () => Promise<CheckRun>;
  /** Gathers and checks again after the change (connections closed). */
  readonly recheck: () => Promise<CheckRun>;
  readonly changesFor: (run: CheckRun) => SysctlChange[];
  readonly nothingToDo: string;
  /** Nodes that need a change they cannot make themselves, one line each: the run then exits 1. */
  readonly blocked?: (run: CheckRun) => string[];
  readonly question: (nodes: number) => string;
  /** Progress title. */
  readonly title: string;
  /** "rp_filter = 2 on all, eth0": what a node got, for its result line. */
  readonly describe: (change: SysctlChange) => string;
  /** Text printed above the report (e.g. tune's table). */
  readonly appendix?: (run: CheckRun) => string;
}

/** The report; `notDone` (a node asked to change that did not) makes the exit at least 1. */
const report = (flow: NodeChangeFlow, run: CheckRun, notDone = false): void => {
  writeReport(run.report, flow.globals, flow.io, {
    ...(flow.appendix ? { textAppendix: flow.appendix(run) } : {}),
  });
  if (notDone) throw new ResultExit(ExitCode.failed);
};

const printDryRun = (flow: NodeChangeFlow, changes: readonly SysctlChange[]): void => {
  const { globals, io } = flow;
  if (globals.output === 'text') io.stdout.write(formatSysctlDryRun(changes));
  else {
    const plan = {
      apiVersion: REPORT_API_VERSION,
      kind: 'SysctlChangePlan',
      dryRun: true,
      nodes: changes.map((c) => ({
        node: c.node.name,
        settings: Object.fromEntries(c.settings.map(([k, v]) => [k, String(v)])),
        file: `${SYSCTL_DIR}/${c.file}`,
        commands: sysctlChangeCommands(c),
      })),
    };
    io.stdout.write(globals.output === 'json' ? printJson(plan) : printYaml(plan));
  }
  io.stderr.write(`--dry-run: nothing was changed (${changes.length} node(s) would be)\n`);
};

export const applyNodeChanges = async (flow: NodeChangeFlow): Promise<void> => {
  const { globals, access, io } = flow;
  if (!flow.dryRun) requireConfirmable(io, globals, flow.flag);
  const before = await flow.gather();
  let changes: SysctlChange[];
  let blocked: string[];
  let results;
  try {
    changes = flow.changesFor(before);
    for (const n of before.report.nodes.filter((node) => !node.reachable))
      io.stderr.write(`warning: ${n.name} could not be reached; it is left as it is\n`);
    blocked = flow.blocked?.(before) ?? [];
    for (const line of blocked) io.stderr.write(`${line}: not changed\n`);
    if (changes.length === 0) {
      io.stderr.write(blocked.length > 0 ? `No node was changed\n` : `${flow.nothingToDo}\n`);
      return report(flow, before, blocked.length > 0);
    }
    if (flow.dryRun) return printDryRun(flow, changes);
    io.stderr.write(`Commands per node:\n${formatSysctlDryRun(changes, (names) => listSome(names))}\n`);
    await confirmChanges(io, globals, flow.question(changes.length));
    results = await applySysctlChanges(changes, before.gathered.exec, {
      io,
      timeoutMs: access.commandTimeoutMs,
      concurrency: access.concurrency,
      title: flow.title,
    });
  } finally {
    await before.gathered.exec.close();
  }
  // One line per distinct change (nodes listed), one per failed node.
  const done = new Map<string, string[]>();
  for (const [i, r] of results.entries()) {
    const change = changes[i]!;
    if (r.error) io.stderr.write(`${r.node}: not changed: ${r.error}\n`);
    else {
      const line = `${flow.describe(change)}; persisted in ${SYSCTL_DIR}/${change.file}`;
      done.set(line, [...(done.get(line) ?? []), r.node]);
    }
  }
  for (const [line, names] of done) io.stderr.write(`${listSome(names)}: ${line}\n`);
  io.stderr.write('Checking again\n');
  report(flow, await flow.recheck(), blocked.length > 0 || results.some((r) => r.error));
};
