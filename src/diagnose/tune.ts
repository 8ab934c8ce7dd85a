// `flannelctl tune [--apply [SETTING...] [--against-advice]] [--dry-run]`: the tune check alone, with
// every setting of the tuning guide as a table (the guide's value, our verdict, each node's value) and
// the reason per setting. --apply sets only recommended settings; a named setting that is not
// recommended is refused unless --against-advice; an informational one (owned by kube-proxy) never.
import Table from 'cli-table3';
import type { TuneFlags } from '../commands/tune.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { listSome } from '../checks/finding.ts';
import { selectChecks } from '../checks/registry.ts';
import { nodeViews } from '../checks/topology.ts';
import {
  RECOMMENDED_TUNE_SETTINGS,
  TUNE_AGAINST_ADVICE_FILE,
  TUNE_SETTINGS,
  TUNE_SYSCTL_FILE,
  tuneChanges,
  tuneReadOnlyChanges,
  tuneSetting,
  tuneSettingsReport,
  type TuneSetting,
  type TuneVerdict,
} from '../checks/tune.ts';
import { UsageError } from '../errors.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import type { NodeTarget } from '../nodes/exec.ts';
import { applyNodeChanges } from './node-changes.ts';
import { writeReport } from './output.ts';
import { checkCluster, gatherAndCheck, type CheckRun, type CheckRunOptions } from './run-checks.ts';
import type { SysctlChange } from './sysctl-change.ts';

const HEADER = '# Written by flannelctl tune: host-gw throughput settings';
const AGAINST_ADVICE_HEADER =
  '# Written by flannelctl tune --against-advice: settings flannelctl does not recommend';

/** What --apply sets, from the names on the command line; refuses before anything is gathered. */
export interface TuneSelection {
  readonly settings: readonly TuneSetting[];
  readonly againstAdvice: boolean;
}

export const selectTuneSettings = (flags: TuneFlags, names: readonly string[]): TuneSelection => {
  const againstAdvice = Boolean(flags.againstAdvice);
  if (!flags.apply && (names.length > 0 || againstAdvice))
    throw new UsageError(
      names.length > 0 ? 'setting names go with --apply' : '--against-advice goes with --apply',
      'tune alone shows every setting; flannelctl tune --apply SETTING... sets the named ones',
    );
  if (names.length === 0) {
    if (againstAdvice)
      throw new UsageError(
        '--against-advice applies only to settings you name',
        'e.g. flannelctl tune --apply net.ipv4.tcp_fastopen --against-advice; --apply alone sets only the recommended ones',
      );
    return { settings: RECOMMENDED_TUNE_SETTINGS, againstAdvice };
  }
  const settings: TuneSetting[] = [];
  for (const name of new Set(names)) {
    const setting = tuneSetting(name);
    if (!setting)
      throw new UsageError(
        `unknown setting ${JSON.stringify(name)}`,
        `tune knows ${TUNE_SETTINGS.map((t) => t.key).join(', ')}`,
      );
    if (setting.verdict === 'informational')
      throw new UsageError(`tune does not set ${name}: ${setting.reason}`);
    if (setting.verdict === 'not-recommended' && !againstAdvice)
      throw new UsageError(
        `${name} is not recommended: ${setting.reason}`,
        `to set it anyway: flannelctl tune --apply ${name} --against-advice`,
      );
    settings.push(setting);
  }
  return { settings, againstAdvice };
};

export const tuneSysctlChanges = (
  facts: ClusterFacts,
  targets: readonly NodeTarget[],
  selection: TuneSelection = { settings: RECOMMENDED_TUNE_SETTINGS, againstAdvice: false },
): SysctlChange[] =>
  nodeViews(facts).flatMap((view) => {
    const target = targets.find((t) => t.name === view.name);
    const s = view.facts?.sysctls;
    if (!s || !target) return [];
    const changes = tuneChanges(s, selection.settings);
    if (changes.length === 0) return [];
    return [
      {
        node: target,
        settings: changes.map((c) => [c.key, c.value] as const),
        file: selection.againstAdvice ? TUNE_AGAINST_ADVICE_FILE : TUNE_SYSCTL_FILE,
        header: selection.againstAdvice ? AGAINST_ADVICE_HEADER : HEADER,
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

export const VERDICT_TEXT: Record<TuneVerdict, string> = {
  recommended: 'recommended',
  'not-recommended': 'not recommended',
  informational: 'informational',
};

/**
 * The guide's value, the verdict and each node's value, one row per setting (nodes with identical
 * values share a column, so the table stays narrow on large clusters), then the reason per setting.
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
    head: ['SETTING', 'GUIDE', 'VERDICT', ...columns.map((g) => listSome(g.nodes, 2))],
    style: { head: [], border: [], compact: true },
  });
  for (const [i, t] of TUNE_SETTINGS.entries())
    table.push([t.key, String(t.guide), VERDICT_TEXT[t.verdict], ...columns.map((g) => g.values[i]!)]);
  const why = TUNE_SETTINGS.map((t) => `  ${t.key} (${VERDICT_TEXT[t.verdict]}): ${t.reason}`);
  return `${table.toString()}\nWhy, for nodes on one L2 segment (--apply sets only the recommended ones):\n${why.join('\n')}\n`;
};

/** The report with the advice per setting, for -o json/yaml. */
const withAdvice = (run: CheckRun): CheckRun => ({
  ...run,
  report: { ...run.report, tuneSettings: tuneSettingsReport(run.gathered.facts) },
});

export const runTune = async (
  flags: TuneFlags,
  names: readonly string[],
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  const selection = selectTuneSettings(flags, names);
  const options: CheckRunOptions = {
    globals,
    access,
    io,
    checks: selectChecks({ checks: ['tune'] }),
    kind: 'TuneReport',
  };
  const appendix = (run: { gathered: { facts: ClusterFacts } }): string => tuneTable(run.gathered.facts);
  if (!flags.apply) {
    const run = withAdvice(await checkCluster(options));
    writeReport(run.report, globals, io, { textAppendix: appendix(run) });
    return;
  }
  const what = selection.againstAdvice ? 'the named settings' : 'the recommended settings';
  await applyNodeChanges({
    flag: '--apply',
    dryRun: Boolean(flags.dryRun),
    globals,
    access,
    io,
    gather: async () => withAdvice(await gatherAndCheck(options)),
    recheck: async () => withAdvice(await checkCluster(options)),
    changesFor: (run) => {
      if (selection.settings.some((t) => t.guide === 'bbr')) {
        const bbr = withoutBbr(run.gathered.facts);
        if (bbr.names.length > 0)
          io.stderr.write(
            `warning: bbr is not offered by the kernel on ${listSome(bbr.names, 3)} (tcp_available_congestion_control: ${bbr.available}): tcp_congestion_control is left as it is there\n`,
          );
      }
      return tuneSysctlChanges(run.gathered.facts, run.gathered.selection.nodes, selection);
    },
    nothingToDo: `Every reachable node already has ${what}: nothing to apply`,
    // Read-only where the node is a container or lab namespace: asked for and not done is no success.
    blocked: (run) =>
      nodeViews(run.gathered.facts).flatMap((view) => {
        const s = view.facts?.sysctls;
        const readOnly = s ? tuneReadOnlyChanges(s, selection.settings).map((c) => c.key) : [];
        return readOnly.length > 0
          ? [
              `${view.name}: ${listSome(readOnly)} ${readOnly.length === 1 ? 'is' : 'are'} read-only in its network namespace (a container or lab node); only its host can set ${readOnly.length === 1 ? 'it' : 'them'}`,
            ]
          : [];
      }),
    question: (n) =>
      `Apply ${what} on ${n} node(s) and persist them in /etc/sysctl.d/${selection.againstAdvice ? TUNE_AGAINST_ADVICE_FILE : TUNE_SYSCTL_FILE}?`,
    title: 'Apply throughput settings',
    describe: (change) => change.settings.map(([k, v]) => `${k} = ${v}`).join(', '),
    appendix,
  });
};
