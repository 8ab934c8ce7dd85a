import { Command, Option } from 'commander';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import type { BenchFlags } from '../bench/options.ts';
import type { CompareFlags } from '../bench/compare-run.ts';
import { addNodeAccessOptions, nodeAccessOptions } from './node-access-flags.ts';

const append = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

const compareCommand = (io: Io): Command =>
  new Command('compare')
    .description('Compare two saved results (before → after): throughput, CPU and latency changes')
    .argument('<before>', 'a result saved with bench --save (e.g. vxlan.json)')
    .argument('<after>', 'the result to compare with it (e.g. host-gw.json)')
    .option('--fail-on-regression <percent>', 'exit 1 when throughput fell by more than this')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .action(async (before: string, after: string, flags: CompareFlags, command: Command) => {
      const { runCompare } = await import('../bench/compare-run.ts');
      runCompare(before, after, flags, globalOptions(command), io);
    });

export const benchCommand = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('bench')
      .description(
        'Measure pod network throughput, latency and CPU between two nodes (iperf3, ping), against the node baseline',
      )
      .addOption(
        new Option(
          '--mode <mode>',
          'pod network, node-to-node baseline (over SSH, or hostNetwork pods with --node-access kube-exec|daemonset), or both',
        )
          .choices(['pod', 'host', 'both'])
          .default('pod'),
      )
      .option('--from <node>', 'client node (default: picked, two Ready nodes on one segment)')
      .option('--to <node>', 'server node (default: picked)')
      .option(
        '--bench-namespace <ns>',
        'namespace for the bench pods (created and deleted if absent)',
        'flannelctl-bench',
      )
      .option('--image <image>', 'iperf3 image', 'networkstatic/iperf3')
      .option('--ping-image <image>', 'image with ping for the latency test', 'busybox:1.36')
      .option('--image-pull-secret <name>', 'pull secret for the images (repeatable)', append)
      .option(
        '--toleration <key[=value][:effect]>',
        'let the pods run on tainted nodes; "all" tolerates every taint (repeatable)',
        append,
      )
      .option(
        '-t, --duration <duration>',
        'length of each iperf3 run (10s, 1m; a bare number is seconds)',
        '10',
      )
      .option('-P, --streams <n>', 'parallel TCP streams', '1')
      .option('-R, --reverse', 'the server sends (iperf3 -R)')
      .option('--udp-rate <rate>', 'also run UDP at this rate (e.g. 1G, 500M): jitter and loss')
      .option('--latency-count <n>', 'pings for RTT percentiles (0: none)', '20')
      .option('--repeat <n>', 'runs per test; the report shows median and min–max', '3')
      .option('--port <port>', 'iperf3 port', '5201')
      .option('--save <file>', 'write the result as JSON for `bench compare`')
      .option('--fail-below <gbps>', 'exit 1 when the median TCP throughput is below this (Gbit/s)')
      .option('--fail-above-rtt <ms>', 'exit 1 when the RTT is above this: "0.5" (p50) or "p99=2"')
      .option(
        '--fail-below-efficiency <percent>',
        'with --mode both: exit 1 when pod/host throughput is below this',
      ),
  )
    .addHelpText(
      'after',
      `
Pod mode runs an iperf3 server pod and short-lived client pods pinned (spec.nodeName) to two nodes,
labelled app.kubernetes.io/managed-by=flannelctl and flannelctl.io/bench-run=<id>; they are deleted
when the run ends, fails or is interrupted. Host mode runs iperf3 between the nodes themselves: over
SSH the nodes' own iperf3; with --node-access kube-exec or daemonset a hostNetwork pod per node (in
flannel's namespace, all capabilities dropped, ping keeps NET_RAW) runs the image's. With node access
(SSH flags, or kube-exec/daemonset) node CPU comes from /proc/stat.

Exit codes: 0 done, 1 a measurement failed or a --fail-* threshold was crossed, 2 bad input, 130 interrupted.

Examples:
  flannelctl bench                                        pod to pod, two picked nodes
  flannelctl bench --mode both --ssh-user admin           also node to node: overlay efficiency
  flannelctl bench --mode both --node-access kube-exec    the same without SSH (hostNetwork pods)
  flannelctl bench --save vxlan.json                      before migrating; then after:
  flannelctl bench --save host-gw.json && flannelctl bench compare vxlan.json host-gw.json
  flannelctl bench --fail-below 5 --fail-above-rtt p99=1  a CI gate`,
    )
    .addCommand(compareCommand(io))
    .action(async (flags: BenchFlags, command: Command) => {
      const { runBench } = await import('../bench/run.ts');
      await runBench(flags, globalOptions(command), nodeAccessOptions(command), io);
    });
