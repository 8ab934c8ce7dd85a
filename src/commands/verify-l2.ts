import { Command } from 'commander';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { addNodeAccessOptions, nodeAccessOptions } from './node-access-flags.ts';

export interface VerifyL2Flags {
  junitFile?: string;
}

export const verifyL2Command = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('verify-l2')
      .description(
        'Check that every node reaches every peer directly (one L2 segment), as host-gw requires; prints the node×node matrix',
      )
      .option('--junit-file <file>', 'also write a JUnit XML report (one testcase per node)'),
  )
    .addHelpText(
      'after',
      `
Each node runs \`ip route get <peer public IP>\` for every peer: one route, no gateway, flannel's
interface means L2-adjacent. Routed pairs cannot use host-gw; vxlan with DirectRouting handles them.

Exit codes: 0 every pair adjacent, 1 a pair is routed or unreachable, 2 bad input, 3 a node could
not be reached.

Examples:
  flannelctl verify-l2
  flannelctl verify-l2 -o json | jq '.l2Matrix.segments'
  flannelctl verify-l2 --inventory nodes.yaml      before install: nodes only, no cluster API`,
    )
    .action(async (flags: VerifyL2Flags, command: Command) => {
      const { runVerifyL2 } = await import('../diagnose/verify-l2.ts');
      await runVerifyL2(flags, globalOptions(command), nodeAccessOptions(command), io);
    });
