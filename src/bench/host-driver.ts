// Host mode: the same iperf3 and ping between the two nodes' own network stacks over SSH — the physical
// baseline without overlay, bridge or veth. A one-off daemon server (`iperf3 -s -1 -D`) per run, always
// stopped afterwards.
import { OperationError } from '../errors.ts';
import type { NodeExec, NodeTarget } from '../nodes/exec.ts';
import type { PathDriver } from './driver.ts';
import type { CpuSampler } from './node-cpu.ts';

export interface HostDriverDeps {
  readonly exec: NodeExec;
  readonly client: NodeTarget;
  readonly server: NodeTarget;
  /** The addresses the nodes reach each other at (flannel's public-ip). */
  readonly clientIP: string;
  readonly serverIP: string;
  readonly runId: string;
  readonly port: number;
  readonly durationSeconds: number;
  readonly commandTimeoutMs: number;
  readonly cpu?: CpuSampler;
  readonly signal?: AbortSignal;
}

/** POSIX single-quoting: every argument reaches the remote shell as one word, verbatim. */
export const shellQuote = (arg: string): string =>
  /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;

export const serverStartScript = (port: number, pidfile: string): string => `
command -v iperf3 >/dev/null 2>&1 || { echo "iperf3 is not installed on this node" >&2; exit 127; }
rm -f ${pidfile}
iperf3 -s -1 -D -p ${port} -I ${pidfile} || exit $?
command -v ss >/dev/null 2>&1 || { sleep 1; exit 0; }
i=0
while [ $i -lt 100 ]; do
  ss -Hltn 'sport = :${port}' 2>/dev/null | grep -q . && exit 0
  sleep 0.1
  i=$((i + 1))
done
echo "iperf3 did not start listening on :${port}" >&2
exit 1
`;

export const serverStopScript = (pidfile: string): string =>
  `[ -f ${pidfile} ] && kill "$(cat ${pidfile})" 2>/dev/null; rm -f ${pidfile}; true\n`;

export const hostDriver = (deps: HostDriverDeps): PathDriver => {
  const { exec, signal } = deps;
  const pidfile = `/tmp/flannelctl-bench-${deps.runId}.pid`;
  const opts = (extraMs = 0) => ({
    timeoutMs: deps.commandTimeoutMs + extraMs,
    ...(signal ? { signal } : {}),
  });
  const runTimeoutMs = (deps.durationSeconds + 30) * 1000;

  const onClient = async (args: readonly string[]) => {
    const before = await deps.cpu?.snapshot();
    const r = await exec.run(deps.client, `${args.map(shellQuote).join(' ')}\n`, opts(runTimeoutMs));
    const after = await deps.cpu?.snapshot();
    return {
      output: r.stdout + r.stderr,
      ...(deps.cpu && before && after ? { nodeCpu: deps.cpu.between(before, after) } : {}),
    };
  };

  return {
    path: 'host',
    setup: () => Promise.resolve(deps.serverIP),
    clientIP: () => deps.clientIP,
    iperf3: async (args, what) => {
      const start = await exec.run(deps.server, serverStartScript(deps.port, pidfile), opts());
      if (start.exitCode !== 0) {
        throw new OperationError(
          `${what}: cannot start iperf3 -s on ${deps.server.name}: ${(start.stderr || start.stdout).trim() || `exit ${start.exitCode}`}`,
          'host mode needs iperf3 on every node and a free --port',
        );
      }
      try {
        return await onClient(args);
      } finally {
        // -1 makes it exit after one client; this stops it when the client never came.
        // Without the run's signal: after Ctrl-C the server must still be stopped.
        await exec
          .run(deps.server, serverStopScript(pidfile), { timeoutMs: deps.commandTimeoutMs })
          .catch(() => undefined);
      }
    },
    ping: (args) => onClient(args),
  };
};
