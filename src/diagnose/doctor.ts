import type { DoctorFlags } from '../commands/doctor.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { selectChecks } from '../checks/registry.ts';
import { buildReport } from '../report/report.ts';
import { gatherCluster } from './gather-cluster.ts';
import { writeReport } from './output.ts';

/** What must hold before a cluster switches to host-gw (`doctor --for host-gw`, migrate's gate). */
export const HOST_GW_PREFLIGHT_CHECKS = [
  'flannel-health',
  'config',
  'l2-adjacency',
  'rp-filter',
  'kernel',
] as const;

export const runDoctor = async (
  flags: DoctorFlags,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  // Validate the selection before touching the cluster or any node.
  const checks = selectChecks({
    checks: flags.checks ?? (flags.for ? [...HOST_GW_PREFLIGHT_CHECKS] : undefined),
    ...(flags.skip ? { skip: flags.skip } : {}),
  });
  const gathered = await gatherCluster({
    globals,
    access,
    io,
    logs: checks.some((c) => c.id === 'flannel-logs'),
    ...(flags.backend ? { backend: flags.backend } : {}),
  });
  await gathered.exec.close();
  const facts = flags.for
    ? {
        ...gathered.facts,
        expectedBackend: {
          value: flags.for,
          source: 'flag' as const,
          reason: `--for ${flags.for}: can every node pair use ${flags.for}?`,
        },
      }
    : gathered.facts;
  const report = buildReport(facts, checks, { kind: 'DoctorReport' });
  writeReport(report, globals, io, {
    failOn: flags.failOn,
    ...(flags.junitFile ? { junitFile: flags.junitFile } : {}),
  });
};
