import type { DoctorFlags } from '../commands/doctor.ts';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { selectChecks } from '../checks/registry.ts';
import { checkCluster } from './run-checks.ts';
import { writeReport } from './output.ts';
import { checkOutputPath } from '../files.ts';

/** What must hold before a cluster switches to host-gw (`doctor --for host-gw`, migrate's gate). */
export const HOST_GW_PREFLIGHT_CHECKS = [
  'flannel-health',
  'config',
  'l2-adjacency',
  'host-gw',
  'rp-filter',
  'mixed-window',
  'kernel',
] as const;

export const runDoctor = async (
  flags: DoctorFlags,
  globals: GlobalOptions,
  access: NodeAccessOptions,
  io: Io,
): Promise<void> => {
  // Validate the selection before touching the cluster or any node.
  if (flags.junitFile) checkOutputPath(flags.junitFile, '--junit-file');
  const checks = selectChecks({
    checks: flags.checks ?? (flags.for ? [...HOST_GW_PREFLIGHT_CHECKS] : undefined),
    ...(flags.skip ? { skip: flags.skip } : {}),
  });
  const { report } = await checkCluster({
    globals,
    access,
    io,
    checks,
    kind: 'DoctorReport',
    ...(flags.backend ? { backend: flags.backend } : {}),
    ...(flags.for
      ? {
          expectedBackend: {
            value: flags.for,
            source: 'flag' as const,
            reason: `--for ${flags.for}: can every node pair use ${flags.for}?`,
          },
        }
      : {}),
  });
  writeReport(report, globals, io, {
    failOn: flags.failOn,
    ...(flags.junitFile ? { junitFile: flags.junitFile } : {}),
  });
};
