// `flannelctl demo`: the whole tool on a simulated cluster, as a user would run it, step by step.
// Each step is the real command (same flags, same output) pointed at the demo cluster.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DemoFlags } from '../commands/demo.ts';
import { OperationError, UsageError } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import { canPrompt, type Io } from '../io.ts';
import { startDemoCluster, type DemoBackend, type DemoCluster } from './demo-cluster.ts';

interface Step {
  readonly title: string;
  readonly why: string;
  /** A flannelctl command line, or an action the demo performs itself (like kubectl would). */
  readonly args?: string[];
  readonly action?: () => Promise<string>;
  /** Runs without the cluster's flags (bench compare reads files only). */
  readonly standalone?: boolean;
  /** Exit codes that tell the story as expected. */
  readonly expect: readonly number[];
}

export const runDemo = async (
  flags: DemoFlags,
  globals: GlobalOptions,
  io: Io,
  signal?: AbortSignal,
): Promise<void> => {
  const nodes = flags.nodes;
  if (!Number.isInteger(nodes) || nodes < 3 || nodes > (flags.lab ? 20 : 500)) {
    throw new UsageError(`--nodes ${nodes} is out of range`, `use 3 to ${flags.lab ? 20 : 500} nodes`);
  }
  if (flags.lab && process.getuid?.() !== 0) {
    throw new UsageError(
      '--lab needs root (it creates network namespaces)',
      'run as root, or leave --lab out for virtual nodes',
    );
  }
  if (flags.out && !flags.keep) throw new UsageError('--out only makes sense with --keep', 'add --keep');
  const out = flags.keep ? resolve(flags.out ?? 'flannelctl-demo') : undefined;
  const from: DemoBackend = flags.backend;
  const to: DemoBackend = from === 'vxlan' ? 'host-gw' : 'vxlan';
  const say = (text: string) => io.stdout.write(`${text}\n`);

  say(
    `flannelctl demo: ${nodes} ${flags.lab ? 'network-namespace nodes with real OpenSSH' : 'virtual nodes over SSH'}, a Kubernetes API emulator and flannel (${from}) agents.`,
  );
  say('Nothing outside this demo is touched.\n');
  const cluster = await startDemoCluster({ nodes, backend: from, lab: flags.lab });
  try {
    const faults = flags.story ? await cluster.injectFaults() : [];
    if (faults.length) say(`Injected faults:\n${faults.map((f) => `  - ${f}`).join('\n')}\n`);
    if (flags.story) await tellStory(cluster, from, to, globals, io, signal);
    if (out) await keepServing(cluster, out, flags.story ? from : to, io, signal);
  } finally {
    await cluster.close();
  }
};

const tellStory = async (
  cluster: DemoCluster,
  from: DemoBackend,
  to: DemoBackend,
  globals: GlobalOptions,
  io: Io,
  signal?: AbortSignal,
): Promise<void> => {
  const { main } = await import('../cli.ts');
  // Non-interactive runs (CI, pipes) answer the confirmations with --yes; on a terminal you are asked.
  const yes = canPrompt(io, globals.yes) ? [] : ['--yes'];
  const common = [...cluster.cliArgs(), ...(globals.color ? [] : ['--no-color'])];
  // The lab passes real traffic, so its story also measures what the guide measures: bench on the old
  // backend, bench on the new one, and the comparison. Virtual nodes run no iperf3 (bench refuses them).
  const benchDir = cluster.kind === 'lab' ? mkdtempSync(join(tmpdir(), 'flannelctl-demo-bench-')) : undefined;
  const benchStep = (backend: DemoBackend, when: string): Step[] =>
    benchDir
      ? [
          {
            title: `flannelctl bench --mode both --save ${backend}.json`,
            why: `Measure ${when}: pod to pod over ${backend}, and node to node as the baseline.`,
            args: ['bench', '--mode', 'both', ...BENCH_SHORT, '--save', join(benchDir, `${backend}.json`)],
            expect: [0],
          },
        ]
      : [];
  const steps: Step[] = [
    {
      title: 'flannelctl doctor',
      why: 'What is wrong before we change anything?',
      args: ['doctor'],
      expect: [1],
    },
    {
      title: 'flannelctl check-rpfilter --fix',
      why: 'Strict rp_filter on an asymmetric node drops pod traffic and blocks host-gw: set it to loose (2) and persist it.',
      args: ['check-rpfilter', '--fix', ...yes],
      expect: [0],
    },
    {
      title: `restart flannel on ${cluster.brokenRouteNodes.join(', ')}`,
      why: 'vxlan never re-adds a lost route (flannel#1070); a restarted flanneld programs them all again, as doctor suggests.',
      action: async () => {
        const commands: string[] = [];
        for (const node of cluster.brokenRouteNodes) commands.push(await cluster.restartFlannelOn(node));
        return commands.join('\n$ ');
      },
      expect: [0],
    },
    ...benchStep(from, 'before the switch'),
    {
      title: `flannelctl migrate --to ${to} --watch-connectivity --cleanup`,
      why: `Switch the live cluster from ${from} to ${to}: preflight, backup, one node at a time, verified, pinging every pair all along.`,
      args: ['migrate', '--to', to, '--watch-connectivity', '--cleanup', ...yes],
      expect: [0],
    },
    ...(benchDir && cluster.recreateWorkloadPods
      ? [
          {
            title: 'recreate the pods started before the switch',
            why: `They keep ${from}'s MTU and hold cni0 there (a bridge takes its smallest port's MTU), as doctor's mtu findings say; new pods get ${to}'s.`,
            action: cluster.recreateWorkloadPods,
            expect: [0],
          },
        ]
      : []),
    ...benchStep(to, 'after the switch, the same way'),
    ...(benchDir
      ? [
          {
            title: `flannelctl bench compare ${from}.json ${to}.json`,
            why: `What the switch bought. ${SAME_MACHINE_CAVEAT}`,
            args: ['bench', 'compare', join(benchDir, `${from}.json`), join(benchDir, `${to}.json`)],
            standalone: true,
            expect: [0],
          },
        ]
      : []),
    { title: 'flannelctl doctor', why: 'And after?', args: ['doctor'], expect: [0] },
  ];
  try {
    await runSteps(steps, common, io, main, signal);
  } finally {
    if (benchDir) rmSync(benchDir, { recursive: true, force: true });
  }
  io.stdout.write(
    `\nDone: doctor found both faults, check-rpfilter fixed rp_filter, a flannel restart brought the lost route back,\n` +
      `migrate moved the live cluster to ${to} one node at a time, and doctor finds nothing failing.\n` +
      (benchDir
        ? `bench measured the pod and node paths before and after; the pods created before the switch were recreated,\n` +
          `so they, cni0 and the bench pods all run at ${to}'s MTU.\n`
        : `The MTU findings are what a real migration leaves: pods created before it keep the old MTU until they are\n` +
          `recreated, and cni0 follows its lowest pod until then (leave its MTU alone: setting it by hand pins it).\n` +
          `Virtual nodes pass no real traffic, so this story has no bench: \`sudo flannelctl demo --lab\` measures it.\n`),
  );
};

/** Short enough for a demo, long enough for TCP to leave slow start: 3 s runs, twice, 20 pings. */
const BENCH_SHORT = ['-t', '3', '--repeat', '2', '--latency-count', '20'];

const SAME_MACHINE_CAVEAT =
  'Every lab node is a network namespace on this one machine, linked by veth pairs: read the figures as ' +
  'what one backend costs relative to the other, not as what your NICs will do.';

const runSteps = async (
  steps: readonly Step[],
  common: readonly string[],
  io: Io,
  main: (argv: string[], deps: { io: Io }) => Promise<number>,
  signal?: AbortSignal,
): Promise<void> => {
  for (const [i, step] of steps.entries()) {
    if (signal?.aborted) return;
    io.stdout.write(`\n━━ Step ${i + 1}/${steps.length}: ${step.title}\n   ${step.why}\n\n`);
    if (step.action) {
      io.stdout.write(`$ ${await step.action()}\n`);
      continue;
    }
    const args = step.standalone ? step.args! : [...step.args!, ...common];
    const code = await main(['node', 'flannelctl', ...args], { io });
    if (!step.expect.includes(code)) {
      throw new OperationError(
        `demo step "${step.title}" ended with exit code ${code} (expected ${step.expect.join(' or ')})`,
      );
    }
  }
};

const keepServing = async (
  cluster: DemoCluster,
  dir: string,
  /** The backend the cluster is not on now: what migrate would move it to. */
  next: DemoBackend,
  io: Io,
  signal?: AbortSignal,
): Promise<void> => {
  mkdirSync(dir, { recursive: true });
  cluster.writeAccessFiles(dir);
  const access = `--kubeconfig ${dir}/kubeconfig --inventory ${dir}/inventory.yaml --ssh-key ${dir}/id_ed25519 --ssh-known-hosts ${dir}/known_hosts`;
  io.stdout.write(
    [
      '',
      `The demo cluster keeps running. Its access files are in ${dir}:`,
      `  kubectl --kubeconfig ${dir}/kubeconfig get nodes -o wide`,
      `  flannelctl doctor ${access}`,
      `  flannelctl migrate --to ${next} ${access}`,
      cluster.kind === 'lab'
        ? `  flannelctl bench ${access}`
        : '  (bench needs real traffic: sudo flannelctl demo --lab --keep)',
      'Press Ctrl-C to stop it.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
};
