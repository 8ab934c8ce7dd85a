// Figure 2 of bench:perf: doctor over a lab with a real OpenSSH server per node, against the loop an
// operator types from the host-gw guide today: one `ssh node 'command'` per command per node,
// gathering the same facts (routes, neighbours, links, rp_filter, ip_forward, subnet.env, route get
// to every peer).
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { withLab } from '../src/lab/lab.ts';
import { labCliArgs } from '../src/lab/cli-args.ts';
import { startSimulatedFlannel } from '../src/sim/flannel-agent/seed.ts';

const run = promisify(execFile);

const NODE_COMMANDS = [
  'ip route show',
  'ip neigh show',
  'ip -d link show',
  'ip addr show',
  'sysctl net.ipv4.conf.all.rp_filter',
  'sysctl net.ipv4.ip_forward',
  'cat /run/flannel/subnet.env',
];

export interface LoopComparison {
  readonly doctorMs: number;
  readonly loopMs: number;
  readonly sshCalls: number;
}

export const labShellLoopComparison = (nodes: number, cli: string): Promise<LoopComparison> =>
  withLab({ nodes, podsPerNode: 0 }, async (lab) => {
    const flannel = await startSimulatedFlannel({
      lab,
      backend: 'host-gw',
      routeCheckIntervalMs: 3_600_000,
      timeoutMs: 300_000,
    });
    try {
      const ssh = lab.ssh!;
      const cliArgs = labCliArgs(lab, flannel.kubeconfig);
      const sshConfig = cliArgs[cliArgs.indexOf('--ssh-config') + 1]!;
      const started = performance.now();
      await run('node', [cli, 'doctor', ...cliArgs, '-o', 'json'], { maxBuffer: 256 * 1024 * 1024 }).catch(
        (e: { code?: number }) => {
          if (typeof e.code !== 'number') throw e;
        },
      );
      const doctorMs = performance.now() - started;

      const sshArgs = [
        '-F',
        sshConfig,
        '-i',
        ssh.identityFile,
        '-o',
        `UserKnownHostsFile=${ssh.knownHostsFile}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
      ];
      let sshCalls = 0;
      const total = nodes * (NODE_COMMANDS.length + nodes - 1);
      const loopStart = performance.now();
      for (const [i, node] of lab.nodes.entries()) {
        const peers = lab.nodes.filter((p) => p.name !== node.name).map((p) => `ip route get ${p.address}`);
        for (const command of [...NODE_COMMANDS, ...peers]) {
          sshCalls++;
          await run('ssh', [...sshArgs, `root@${node.address}`, command]).catch(() => undefined);
        }
        // Thousands of sequential ssh calls take minutes: show that it is running.
        process.stderr.write(
          `\r   shell loop: node ${i + 1}/${nodes}, ${sshCalls}/${total} ssh calls, ${Math.round((performance.now() - loopStart) / 1000)} s`,
        );
      }
      process.stderr.write('\n');
      return { doctorMs, loopMs: performance.now() - loopStart, sshCalls };
    } finally {
      await flannel.close();
    }
  });
