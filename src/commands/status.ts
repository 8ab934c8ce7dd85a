import { Command } from 'commander';
import { UsageError } from '../errors.ts';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { topologyFormatFor } from '../render/topology.ts';
import { addNodeAccessOptions, nodeAccessOptions } from './node-access-flags.ts';
import { checkOutputPath } from '../files.ts';

export interface StatusFlags {
  topology?: string;
}

export const statusCommand = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('status')
      .description(
        'Per node: podCIDR, public IP, backend, routes to peers, flannel pod state and reachability',
      )
      .option(
        '--topology <file>',
        'also write the network picture: Mermaid in Markdown (.md) or Graphviz DOT (.dot, .gv)',
      ),
  )
    .addHelpText(
      'after',
      `
PEER-ROUTES counts the peers whose pod subnet the node has a route to. The topology groups nodes by
L2 segment and labels each pair: direct, via flannel.N (vxlan) or via a gateway; above 30 nodes it
draws one box per segment.

Exit codes: 0 every selected node answered, 2 bad input, 3 a node could not be reached.

Examples:
  flannelctl status
  flannelctl status -o json
  flannelctl status --topology network.md     renders on GitHub
  flannelctl status --topology network.dot && dot -Tsvg network.dot > network.svg`,
    )
    .action(async (flags: StatusFlags, command: Command) => {
      const globals = globalOptions(command);
      const access = nodeAccessOptions(command);
      const format = flags.topology === undefined ? undefined : topologyFormatFor(flags.topology);
      if (flags.topology !== undefined) {
        if (!format)
          throw new UsageError(
            `--topology ${flags.topology}: unknown format`,
            'name the file .md (Mermaid in Markdown) or .dot/.gv (Graphviz)',
          );
        checkOutputPath(flags.topology, '--topology');
      }
      const { runStatus } = await import('../diagnose/status.ts');
      await runStatus(flags, format, globals, access, io);
    });
