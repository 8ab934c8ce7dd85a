import { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { addNodeAccessOptions, nodeAccessOptions, readOnlyAccessError } from './node-access-flags.ts';

export interface CheckRpFilterFlags {
  fix?: boolean;
  dryRun?: boolean;
}

export const checkRpFilterCommand = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('check-rpfilter')
      .description(
        'Check reverse-path filtering on every node (strict mode drops pod traffic on asymmetric paths); --fix sets loose mode',
      )
      .option(
        '--fix',
        'set rp_filter to loose (2) where it is strict, now and in /etc/sysctl.d/90-flannelctl-rp-filter.conf',
      )
      .option('--dry-run', 'with --fix: print the commands per node, change nothing'),
  )
    .addHelpText(
      'after',
      `
The kernel applies max(net.ipv4.conf.all.rp_filter, net.ipv4.conf.<iface>.rp_filter) on the uplink,
cni0 and flannel.N. Strict (1) fails on a node with asymmetric paths and warns otherwise.
--fix asks before changing anything; pass --yes in scripts and CI.

Exit codes: 0 loose or off everywhere (after --fix: fixed), 1 strict on an asymmetric path,
2 bad input (or --fix without --yes where no one can confirm), 3 a node could not be reached.

Examples:
  flannelctl check-rpfilter
  flannelctl check-rpfilter --fix --dry-run      the exact commands per node
  flannelctl check-rpfilter --fix --yes`,
    )
    .action(async (flags: CheckRpFilterFlags, command: Command) => {
      if (flags.dryRun && !flags.fix)
        throw new UsageError('--dry-run goes with --fix', 'check-rpfilter alone changes nothing');
      const globals = globalOptions(command);
      const access = nodeAccessOptions(command);
      const readOnly = flags.fix && !flags.dryRun ? readOnlyAccessError('--fix', access.mode) : undefined;
      if (readOnly) throw readOnly;
      const { runCheckRpFilter } = await import('../diagnose/check-rpfilter.ts');
      await runCheckRpFilter(flags, globals, access, io);
    });
