// `flannelctl check-rpfilter [--fix] [--dry-run]`: the rp-filter check alone; --fix sets loose mode
// (2) on `all` and each strict interface (uplink, cni0, flannel.N) of the nodes where rp_filter is
// effectively strict, persists it under /etc/sysctl.d/, then gathers again and reports the result.
import type { CheckRpFilterFlags } from '../commands/check-rpfilter.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { selectChecks } from '../checks/registry.ts';
import { looseRpFilterSettings, RP_FILTER_SYSCTL_FILE, rpFilterInterfaces } from '../checks/rp-filter.ts';
import { nodeViews, uplinkOf } from '../checks/topology.ts';
import type { ClusterFacts } from '../facts/cluster-facts.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import type { NodeTarget } from '../nodes/exec.ts';
import { checkCluster, gatherAndCheck, type CheckRunOptions } from './run-checks.ts';
import { applyNodeChanges } from './node-changes.ts';
import type { SysctlChange } from './sysctl-change.ts';
import { writeReport } from './output.ts';

const HEADER = '# Written by flannelctl check-rpfilter --fix: loose reverse-path filtering for flannel';

/** The change each node with an effectively strict interface needs; nodes without one are left alone. */
export const rpFilterChanges = (facts: ClusterFacts, targets: readonly NodeTarget[]): SysctlChange[] =>
  nodeViews(facts).flatMap((view) => {
    const rp = view.facts?.sysctls?.rpFilter;
    const target = targets.find((t) => t.name === view.name);
    const uplink = view.facts ? uplinkOf(view.facts, view.publicIp) : null;
    if (!rp || !target || !uplink) return [];
    const strict = rpFilterInterfaces(view.facts!, rp, uplink.name).filter((v) => v.effective === 1);
    if (strict.length === 0) return [];
    return [
      {
        node: target,
        settings: looseRpFilterSettings(strict.map((v) => v.name)),
        file: RP_FILTER_SYSCTL_FILE,
        header: HEADER,
      },
    ];
  });

export const runCheckRpFilter = async (
  flags: CheckRpFilterFlags,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  const options: CheckRunOptions = {
    globals,
    access,
    io,
    checks: selectChecks({ checks: ['rp-filter'] }),
    kind: 'RpFilterReport',
  };
  if (!flags.fix) {
    writeReport((await checkCluster(options)).report, globals, io);
    return;
  }
  await applyNodeChanges({
    flag: '--fix',
    dryRun: Boolean(flags.dryRun),
    globals,
    access,
    io,
    gather: () => gatherAndCheck(options),
    recheck: () => checkCluster(options),
    changesFor: (run) => rpFilterChanges(run.gathered.facts, run.gathered.selection.nodes),
    nothingToDo: 'rp_filter is not strict on any reachable node: nothing to fix',
    question: (n) =>
      `Set rp_filter to loose (2) on ${n} node(s) and persist it in /etc/sysctl.d/${RP_FILTER_SYSCTL_FILE}?`,
    title: 'Set rp_filter to loose (2)',
    describe: (change) =>
      `rp_filter = 2 on ${change.settings.map(([k]) => k.replace(/^net\.ipv4\.conf\.(.+)\.rp_filter$/, '$1')).join(', ')}`,
  });
};
