import { Command, Option } from 'commander';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { integer } from './flag-parsers.ts';

export interface DemoFlags {
  nodes: number;
  backend: 'vxlan' | 'host-gw';
  lab: boolean;
  keep: boolean;
  out?: string;
  story: boolean;
}

export const demoCommand = (io: Io): Command =>
  new Command('demo')
    .description('Run doctor, a fix and a live vxlan → host-gw migration on a built-in simulated cluster')
    .addOption(new Option('--nodes <count>', 'how many nodes').argParser(integer('--nodes')).default(4))
    .addOption(
      new Option('--backend <type>', 'the backend the cluster starts on')
        .choices(['vxlan', 'host-gw'])
        .default('vxlan'),
    )
    .option(
      '--lab',
      'real network namespaces with OpenSSH per node instead of virtual nodes (root, Linux)',
      false,
    )
    .option('--keep', 'keep the cluster running afterwards and write its access files (see --out)', false)
    .option(
      '--out <dir>',
      'with --keep: where to write kubeconfig, inventory.yaml, id_ed25519, known_hosts (default ./flannelctl-demo)',
    )
    .option('--no-story', 'skip the faults and the steps: just start the cluster (with --keep)')
    .addHelpText(
      'after',
      `
Examples:
  flannelctl demo                          the whole story on 4 virtual nodes
  flannelctl demo --keep --out /tmp/demo   then point kubectl and flannelctl at /tmp/demo/*
  sudo flannelctl demo --lab               the same on real kernels in network namespaces`,
    )
    .action(async (flags: DemoFlags, command: Command) => {
      const { runDemo } = await import('../demo/run.ts');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await runDemo(flags, globalOptions(command), io, stop.signal);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
