import { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { addNodeAccessOptions, nodeAccessOptions, readOnlyAccessError } from './node-access-flags.ts';

export interface TuneFlags {
  apply?: boolean;
  dryRun?: boolean;
}

export const tuneCommand = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('tune')
      .description(
        'Compare the kernel settings that limit host-gw throughput with the recommendation, per node; --apply sets them',
      )
      .option('--apply', 'set the differing settings now and in /etc/sysctl.d/90-flannelctl-tune.conf')
      .option('--dry-run', 'with --apply: print the commands per node, change nothing'),
  )
    .addHelpText(
      'after',
      `
Settings: socket buffer ceilings and defaults, tcp_congestion_control=bbr (only where the kernel
offers it; \`modprobe tcp_bbr\` is yours to run), nf_conntrack_max, tcp_fastopen, route.max_size.
--apply asks before changing anything; pass --yes in scripts and CI.

Exit codes: 0 done (differences are information, not failures), 2 bad input (or --apply without
--yes where no one can confirm), 3 a node could not be reached.

Examples:
  flannelctl tune
  flannelctl tune --apply --dry-run
  flannelctl tune --apply --yes --nodes node-1,node-2`,
    )
    .action(async (flags: TuneFlags, command: Command) => {
      if (flags.dryRun && !flags.apply)
        throw new UsageError('--dry-run goes with --apply', 'tune alone changes nothing');
      const globals = globalOptions(command);
      const access = nodeAccessOptions(command);
      const readOnly = flags.apply && !flags.dryRun ? readOnlyAccessError('--apply', access.mode) : undefined;
      if (readOnly) throw readOnly;
      const { runTune } = await import('../diagnose/tune.ts');
      await runTune(flags, globals, access, io);
    });
