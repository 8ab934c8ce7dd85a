import { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { addNodeAccessOptions, nodeAccessOptions, readOnlyAccessError } from './node-access-flags.ts';

export interface TuneFlags {
  apply?: boolean;
  dryRun?: boolean;
  againstAdvice?: boolean;
}

export const tuneCommand = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('tune')
      .description(
        "Show a host-gw tuning guide's sysctls per node with the guide's value, our verdict and the reason; --apply sets the recommended ones",
      )
      .argument('[settings...]', 'with --apply: set only these (dotted names, e.g. net.core.rmem_max)')
      .option(
        '--apply',
        'set the recommended settings that differ, now and in /etc/sysctl.d/90-flannelctl-tune.conf',
      )
      .option(
        '--against-advice',
        'with --apply and named settings: also set named settings that are not recommended (in /etc/sysctl.d/90-flannelctl-tune-against-advice.conf)',
      )
      .option('--dry-run', 'with --apply: print the commands per node, change nothing'),
  )
    .addHelpText(
      'after',
      `
Verdicts, for nodes on one L2 segment:
  recommended      net.core.rmem_max, net.core.wmem_max: ceilings for buffers a socket asks for itself
                   (SO_RCVBUF/SO_SNDBUF); TCP autotuning is bounded by tcp_rmem/tcp_wmem instead
  not recommended  net.core.rmem_default, net.core.wmem_default (global: every UDP, unix and netlink
                   socket on the node and in every pod starts that large), tcp_congestion_control=bbr
                   (nothing to gain at LAN RTT; per netns, pods get it only when created),
                   tcp_fastopen (per netns, pods always start at 1), route.max_size (no-op since 3.6)
  informational    net.netfilter.nf_conntrack_max: kube-proxy sets it (conntrack.maxPerCore)
--apply sets only recommended settings. Naming a not-recommended one is refused (exit 2) unless
--against-advice is given too; an informational one is always refused. Global settings are
read-only inside a container's network namespace (kind, the lab): only the host can set them.
--apply asks before changing anything; pass --yes in scripts and CI.

Exit codes: 0 done (differences are information, not failures), 2 bad input (or --apply without
--yes where no one can confirm), 3 a node could not be reached.

Examples:
  flannelctl tune
  flannelctl tune --apply --dry-run
  flannelctl tune --apply --yes --nodes node-1,node-2
  flannelctl tune --apply net.ipv4.tcp_fastopen --against-advice --yes`,
    )
    .action(async (settings: string[], flags: TuneFlags, command: Command) => {
      if (flags.dryRun && !flags.apply)
        throw new UsageError('--dry-run goes with --apply', 'tune alone changes nothing');
      const globals = globalOptions(command);
      const access = nodeAccessOptions(command);
      const { runTune, selectTuneSettings } = await import('../diagnose/tune.ts');
      selectTuneSettings(flags, settings);
      const readOnly = flags.apply && !flags.dryRun ? readOnlyAccessError('--apply', access.mode) : undefined;
      if (readOnly) throw readOnly;
      await runTune(flags, settings, globals, access, io);
    });
