import { UsageError } from '../errors.ts';
import type { Io } from '../io.ts';
import type { ManifestOptions } from '../flannel/manifest-options.ts';
import { formatProblem } from '../flannel/problem.ts';
import { validateManifestOptions } from '../flannel/validate-manifest-options.ts';
import type { NodePodCidrs } from '../flannel/validate-net-conf.ts';

/**
 * Every input is checked before the cluster is touched: the options, the net-conf.json they produce,
 * and (with a cluster) each node's podCIDR against it. Errors stop the command with exit 2; warnings are
 * printed to stderr.
 */
export const assertValid = (options: ManifestOptions, nodes: readonly NodePodCidrs[], io: Io): void => {
  const problems = validateManifestOptions(options, nodes.length ? { nodes } : {});
  const errors = problems.filter((p) => p.severity === 'error');
  for (const warning of problems.filter((p) => p.severity === 'warning'))
    io.stderr.write(`${formatProblem(warning)}\n`);
  if (errors.length === 1) throw new UsageError(`${errors[0]!.field}: ${errors[0]!.message}`, errors[0]!.fix);
  if (errors.length > 1) {
    throw new UsageError(
      `the requested install is not valid:\n${errors.map(formatProblem).join('\n')}`,
      'fix the flags above; nothing was changed',
    );
  }
};
