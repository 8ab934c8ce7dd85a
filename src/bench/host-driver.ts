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
  readonly port: number;
  readonly durationSeconds: number;
  readonly commandTimeoutMs: number;
  readonly cpu?: CpuSampler;
  readonly signal?: AbortSignal;
}

/** POSIX single-quoting: every argument reaches the remote shell as one word, verbatim. */
export const shellQuote = (arg: string): string =>
  /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;

/** Where the start script reports the private directory it made for the server's pid file. */
const PID_DIR_MARKER = 'flannelctl-bench-dir=';
/** What `mktemp -d /tmp/flannelctl-bench.XXXXXXXXXX` can return: the only path the stop script removes. */
const PID_DIR = /^\/tmp\/flannelctl-bench\.[A-Za-z0-9]{10}$/;

/**
 * Starts a one-off iperf3 server whose pid file lives in a fresh 0700 directory from mktemp: a fixed
 * name in /tmp would let another local user plant a symlink or a pid of their choosing (which the stop
 * script then kills as root).
 */
export const serverStartScript = (port: number): string => `
command -v iperf3 >/dev/null 2>&1 || { echo "iperf3 is not installed on this node" >&2; exit 127; }
dir=$(mktemp -d /tmp/flannelctl-bench.XXXXXXXXXX) || exit $?
echo "${PID_DIR_MARKER}$dir"
iperf3 -s -1 -D -p ${port} -I "$dir/iperf3.pid" || exit $?
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

/** The private directory a start script made, from its output; null when it made none. */
export const pidDirFrom = (stdout: string): string | null => {
  const line = stdout.split('\n').find((l) => l.startsWith(PID_DIR_MARKER));
  const dir = line?.slice(PID_DIR_MARKER.length).trim();
  return dir && PID_DIR.test(dir) ? dir : null;
};

const withoutMarker = (stdout: string): string =>
  stdout
    .split('\n')
    .filter((l) => !l.startsWith(PID_DIR_MARKER))
    .join('\n');

export const serverStopScript = (pidDir: string): string => {
  if (!PID_DIR.test(pidDir))
    throw new Error(`refusing to clean up unexpected path ${JSON.stringify(pidDir)}`);
  return `[ -f ${pidDir}/iperf3.pid ] && kill "$(cat ${pidDir}/iperf3.pid)" 2>/dev/null; rm -rf ${pidDir}; true\n`;
};

export const hostDriver = (deps: HostDriverDeps): PathDriver => {
  const { exec, signal } = deps;
  const opts = (extraMs = 0) => ({
    timeoutMs: deps.commandTimeoutMs + extraMs,
    ...(signal ? { signal } : {}),
  });
  // Without the run's signal: after Ctrl-C the server must still be stopped.
  const stopServer = (pidDir: string) =>
    exec
      .run(deps.server, serverStopScript(pidDir), { timeoutMs: deps.commandTimeoutMs })
      .then(() => undefined)
      .catch(() => undefined);
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
      const start = await exec.run(deps.server, serverStartScript(deps.port), opts());
      const pidDir = pidDirFrom(start.stdout);
      if (start.exitCode !== 0) {
        if (pidDir) await stopServer(pidDir);
        throw new OperationError(
          `${what}: cannot start iperf3 -s on ${deps.server.name}: ${(start.stderr || withoutMarker(start.stdout)).trim() || `exit ${start.exitCode}`}`,
          'host mode needs iperf3 on every node and a free --port',
        );
      }
      try {
        return await onClient(args);
      } finally {
        // -1 makes it exit after one client; this stops it when the client never came.
        if (pidDir) await stopServer(pidDir);
      }
    },
    ping: (args) => onClient(args),
  };
};
