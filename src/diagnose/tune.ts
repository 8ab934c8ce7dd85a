// `flannelctl tune [--apply] [--dry-run]`: the tune check alone, with current vs recommended per
// node as a table; --apply sets the differing settings and persists them under /etc/sysctl.d/. BBR
// is only set where the kernel offers it: loading tcp_bbr is the operator's decision.
import Table from 'cli-table3';
import type { TuneFlags } from '../commands/tune.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { listSome } from '../checks/finding.ts';
import { selectChecks } from '../checks/registry.ts';
import { nodeViews } from '../checks/topology.ts';
import { TUNE_SETTINGS, TUNE_SYSCTL_FILE, tuneChanges } from '../checks/tune.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import type { NodeTarget } from '../nodes/exec.ts';
import { applyNodeChanges } from './node-changes.ts';
import { writeReport } from './output.ts';
import { checkCluster, gatherAndCheck, type CheckRunOptions } from './run-checks.ts';
import type { SysctlChange } from './sysctl-change.ts';

/** The header tuneSysctlFile writes, so the drop-in is the same file whoever writes it. */
const HEADER = '# Written by flannelctl tune: host-gw throughput settings';

export const tuneSysctlChanges = (facts: ClusterFacts, targets: readonly NodeTarget[]): SysctlChange[] =>
  nodeViews(facts).flatMap((view) => {
    const target = targets.find((t) => t.name === view.name);
    const s = view.facts?.sysctls;
    if (!s || !target) return [];
    const changes = tuneChanges(s);
    if (changes.length === 0) return [];
    return [
      {
        node: target,
        settings: changes.map((c) => [c.key, c.recommended] as const),
        file: TUNE_SYSCTL_FILE,
        header: HEADER,
      },
    ];
  });

/** Nodes whose kernel does not offer bbr (and that do not already run it). */
const withoutBbr = (facts: ClusterFacts): { names: string[]; available: string } => {
  const names: string[] = [];
  let available = '';
  for (const view of nodeViews(facts)) {
    const s = view.facts?.sysctls;
    if (!s || s.tcpCongestionControl === 'bbr' || !Array.isArray(s.tcpAvailableCongestionControl)) continue;
    if (s.tcpAvailableCongestionControl.includes('bbr')) continue;
    names.push(view.name);
    available ||= s.tcpAvailableCongestionControl.join(' ');
  }
  return { names, available };
};

const show = (value: unknown): string =>
  value === null ? 'unknown' : value === 'missing' ? 'absent' : String(value);

/**
 * Current vs recommended, one row per setting; nodes with identical values share a column group so the
 * table stays narrow on large clusters.
 */
export const tuneTable = (facts: ClusterFacts): string => {
  const groups = new Map<string, { nodes: string[]; values: string[] }>();
  for (const view of nodeViews(facts)) {
    const s = view.facts?.sysctls;
    if (!s) continue;
    const values = TUNE_SETTINGS.map((t) => show(t.current(s)));
    const key = values.join('\0');
    groups.set(key, { nodes: [...(groups.get(key)?.nodes ?? []), view.name], values });
  }
  if (groups.size === 0) return 'No node could be read.\n';
  const columns = [...groups.values()];
  const table = new Table({
    head: ['SETTING', 'RECOMMENDED', ...columns.map((g) => listSome(g.nodes, 2))],
    style: { head: [], border: [], compact: true },
  });
  for (const [i, t] of TUNE_SETTINGS.entries())
    table.push([t.key, String(t.recommended), ...columns.map((g) => g.values[i]!)]);
  const lines = [table.toString()];
  const bbr = withoutBbr(facts);
  if (bbr.names.length > 0) {
    lines.push(
      `bbr is not offered by the kernel on ${listSome(bbr.names, 3)} (tcp_available_congestion_control: ${bbr.available}),`,
      'so tcp_congestion_control is left as it is there. Loading it is your choice: `modprobe tcp_bbr`',
      '(and tcp_bbr in /etc/modules-load.d/ to keep it), then run `flannelctl tune --apply` again.',
    );
  }
  return `${lines.join('\n')}\n`;
};

export const runTune = async (
  flags: TuneFlags,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  const options: CheckRunOptions = {
    globals,
    access,
    io,
    checks: selectChecks({ checks: ['tune'] }),
    kind: 'TuneReport',
  };
  const appendix = (run: { gathered: { facts: ClusterFacts } }): string => tuneTable(run.gathered.facts);
  if (!flags.apply) {
    const run = await checkCluster(options);
    writeReport(run.report, globals, io, { textAppendix: appendix(run) });
    return;
  }
  await applyNodeChanges({
    flag: '--apply',
    dryRun: Boolean(flags.dryRun),
    globals,
    access,
    io,
    gather: () => gatherAndCheck(options),
    recheck: () => checkCluster(options),
    changesFor: (run) => tuneSysctlChanges(run.gathered.facts, run.gathered.selection.nodes),
    nothingToDo: 'Every reachable node already uses the recommended settings: nothing to apply',
    question: (n) =>
      `Apply the throughput settings on ${n} node(s) and persist them in /etc/sysctl.d/${TUNE_SYSCTL_FILE}?`,
    title: 'Apply throughput settings',
    describe: (change) => change.settings.map(([k, v]) => `${k} = ${v}`).join(', '),
    appendix,
  });
};
