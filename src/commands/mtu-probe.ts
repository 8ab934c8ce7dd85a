import { Command, InvalidArgumentError, Option } from 'commander';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { expectedBackendOption, failOnOption } from './report-flags.ts';
import { addNodeAccessOptions, nodeAccessOptions } from './node-access-flags.ts';

export interface MtuProbeFlags {
  pairs: 'auto' | 'all' | number;
  backend?: string;
  failOn: 'fail' | 'warn';
}

/** --pairs auto|all|N (peers per node). */
export const pairsSetting = (value: string): MtuProbeFlags['pairs'] => {
  const v = value.trim();
  if (v === 'auto' || v === 'all') return v;
  if (/^\d+$/.test(v) && Number(v) >= 1) return Number(v);
  throw new InvalidArgumentError(`--pairs takes auto, all or a number of peers per node, not "${value}"`);
};

export const mtuProbeCommand = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('mtu-probe')
      .description(
        "Measure the real path MTU between nodes and to each peer's pod network with don't-fragment pings",
      )
      .addOption(
        new Option(
          '--pairs <which>',
          'auto: every pair up to 50 nodes, above that each node to its next 5; all; or N peers per node',
        )
          .argParser(pairsSetting)
          .default('auto'),
      )
      .addOption(expectedBackendOption())
      .addOption(failOnOption()),
  )
    .addHelpText(
      'after',
      `
Each node pings each chosen peer's node address and its pod network (the peer's cni0, podCIDR .1) with
\`ping -c 1 -W 1 -M do -s SIZE-28\`, binary-searching the largest packet that gets through. The node path
should carry the sender's uplink MTU, the pod path its FLANNEL_MTU. /proc/net/snmp is read before and
after: fragmentation that grew during the probe is reported too.

Exit codes: 0 every path carries the expected size, 1 a path falls short (or a warning, with --fail-on
warn), 2 bad input, 3 a node or path could not be probed.

Examples:
  flannelctl mtu-probe                       every pair (a sample above 50 nodes)
  flannelctl mtu-probe --nodes node-1,node-7 just these two, both directions
  flannelctl mtu-probe --pairs all -o json   every pair of a big cluster, for CI`,
    )
    .action(async (flags: MtuProbeFlags, command: Command) => {
      const { runMtuProbe } = await import('../diagnose/mtu-probe.ts');
      await runMtuProbe(flags, globalOptions(command), nodeAccessOptions(command), io);
    });
