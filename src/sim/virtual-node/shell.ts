// Answers a script sent to `sh -s` without running a shell. flannelctl's probe script is recognised
// exactly (rebuilt from its own options and compared), its sections answered from the model; any other
// script is read line by line as simple commands. Unknown commands fail as dash reports them.
import {
  buildProbeScript,
  PROBE_SYSCTLS,
  ROUTE_GET_JSON,
  ROUTE_GET_TEXT,
  type ProbeScriptOptions,
} from '../../facts/probe-script.ts';
import { bridgeCommand } from './commands/bridge.ts';
import {
  catCommand,
  hostnameCommand,
  idCommand,
  iptablesCommand,
  isDir,
  listDir,
  readFile,
  sysctlCommand,
  unameCommand,
} from './commands/files.ts';
import { ipCommand, out } from './commands/ip.ts';
import { pingCommand } from './commands/ping.ts';
import { printfCommand } from './commands/printf.ts';
import type { VirtualNode } from './model.ts';
import { renderSysctlGrep, type Output } from './render/proc.ts';

type Command = (node: VirtualNode, argv: readonly string[]) => Output;

interface CommandEntry {
  readonly run: Command;
  /** Absent from the node (like `command -v` failing); default: installed. */
  readonly installed?: (node: VirtualNode) => boolean;
}

const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  ip: { run: ipCommand },
  bridge: { run: bridgeCommand },
  sysctl: { run: sysctlCommand },
  cat: { run: catCommand },
  ping: { run: pingCommand },
  printf: { run: printfCommand },
  iptables: { run: iptablesCommand, installed: (n) => n.iptablesVersion !== null },
  nft: {
    run: (n) => out((n.nftTables ?? []).map((t) => `table ${t}\n`).join('')),
    installed: (n) => n.nftTables !== null,
  },
  uname: { run: unameCommand },
  id: { run: idCommand },
  hostname: { run: hostnameCommand },
  true: { run: () => out('') },
  false: { run: () => ({ stdout: '', stderr: '', code: 1 }) },
};

const installed = (node: VirtualNode, name: string): boolean => {
  const entry = COMMANDS[name];
  return entry !== undefined && (entry.installed?.(node) ?? true);
};

const notFound = (line: number, name: string): Output => ({
  stdout: '',
  stderr: `sh: ${line}: ${name}: not found\n`,
  code: 127,
});

/** Runs one simple command (argv already split). */
export const runCommand = (node: VirtualNode, argv: readonly string[], line = 1): Output => {
  const [name = '', ...args] = argv;
  if (!installed(node, name)) return notFound(line, name);
  return COMMANDS[name]!.run(node, args);
};

/** Splits a line into words: whitespace-separated, with '…' and "…" quoting. */
export const words = (line: string): string[] => {
  const result: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) result.push(m[1] ?? m[2]?.replace(/\\(.)/g, '$1') ?? m[3]!);
  return result;
};

/** The probe's options when `script` is exactly what buildProbeScript makes of them. */
export const recogniseProbe = (script: string): ProbeScriptOptions | undefined => {
  if (!script.startsWith('# flannelctl node probe\n')) return undefined;
  const nonce = /^N=([0-9a-f]+)$/m.exec(script)?.[1];
  if (!nonce) return undefined;
  const options: ProbeScriptOptions = {
    nonce,
    peers: /^s \$G g (.+)$/m.exec(script)?.[1]?.split(' ') ?? [],
    interfaces: [...script.matchAll(/^if ip link show dev (\S+) /gm)].map((m) => m[1]!),
    subnetEnvPath: /^s subnet-env c '([^']*)'$/m.exec(script)?.[1] ?? '',
    cniConfDir: /^s cni-conf l '([^']*)'$/m.exec(script)?.[1] ?? '',
  };
  try {
    return buildProbeScript(options) === script ? options : undefined;
  } catch {
    return undefined;
  }
};

/** The probe's helpers (see probe-script.ts), then plain commands. */
const probeCommand = (node: VirtualNode, argv: readonly string[]): Output => {
  const [helper, ...rest] = argv;
  const first = rest[0] ?? '';
  switch (helper) {
    case 'd':
      return runCommand(node, ['ip', '-d', ...rest]);
    case 'p':
      return installed(node, first)
        ? runCommand(node, rest)
        : { stdout: `${first}: not installed\n`, stderr: '', code: 127 };
    case 'c': {
      const text = readFile(node, first);
      return text === undefined ? { stdout: `${first}: not found\n`, stderr: '', code: 66 } : out(text);
    }
    case 'l':
      return isDir(node, first)
        ? out(
            listDir(node, first)
              .map((e) => `${e}\n`)
              .join(''),
          )
        : { stdout: `${first}: not found\n`, stderr: '', code: 66 };
    case 'x':
      return renderSysctlGrep(node, PROBE_SYSCTLS);
    case 'q':
      // Virtual nodes model no pod network namespaces: `ip netns list` prints nothing.
      return out('');
    default:
      return runCommand(node, argv);
  }
};

const answerProbe = (node: VirtualNode, script: string, nonce: string): Output => {
  let stdout = '';
  const run = (name: string, argv: readonly string[]): void => {
    const r = probeCommand(node, argv);
    // `"$@" 2>&1`: our commands print stderr only when they print nothing else, so order is kept.
    stdout += `\n@@${nonce} BEGIN ${name}\n${r.stdout}${r.stderr}\n@@${nonce} END ${name} ${r.code}\n`;
  };
  const section = (line: string): void => {
    const [, name = '', ...argv] = words(line);
    run(name, argv);
  };
  // The probe's `case $(ip -j route get 127.0.0.1) …` picks the one form of `ip route get` for `g`.
  let routeGetJson = true;
  for (const line of script.split('\n')) {
    if (line.startsWith('s $G g ')) {
      // `g`: every peer's route get in one section, each between GET and GOT lines.
      const argv = routeGetJson ? ['ip', '-j', 'route', 'get'] : ['ip', 'route', 'get'];
      const parts: string[] = [];
      for (const peer of line.slice('s $G g '.length).split(' ')) {
        const r = runCommand(node, [...argv, peer]);
        parts.push(`@@${nonce} GET ${peer}\n${r.stdout}${r.stderr}\n@@${nonce} GOT ${peer} ${r.code}\n`);
      }
      const name = routeGetJson ? ROUTE_GET_JSON : ROUTE_GET_TEXT;
      stdout += `\n@@${nonce} BEGIN ${name}\n${parts.join('')}\n@@${nonce} END ${name} 0\n`;
    } else if (line.startsWith('s ')) section(line);
    if (line.startsWith('case $(ip -j route get 127.0.0.1 '))
      routeGetJson = runCommand(node, ['ip', '-j', 'route', 'get', '127.0.0.1']).stdout.startsWith('[');
    const guarded = /^if ip link show dev (\S+) >\/dev\/null 2>&1; then (.*); fi$/.exec(line);
    if (guarded && node.link(guarded[1]!)) for (const inner of guarded[2]!.split('; ')) section(inner);
  }
  return { stdout, stderr: '', code: 0 };
};

/** `command > /abs/path` at the end of a line, outside quotes; undefined for anything else. */
const stdoutRedirect = (line: string): { command: string; path: string } | undefined => {
  const m = /^(.*\S)\s+>\s*(\/[^\s'"]+)$/.exec(line);
  if (!m || (m[1]!.match(/'/g) ?? []).length % 2 !== 0) return undefined;
  return { command: m[1]!, path: m[2]! };
};

/** What `>` does: the file gets the command's stdout, created or truncated; its directory must exist. */
const writeStdout = (node: VirtualNode, r: Output, path: string, line: number): Output => {
  const dir = path.slice(0, path.lastIndexOf('/')) || '/';
  if (!isDir(node, dir) || isDir(node, path)) {
    const why = isDir(node, path) ? 'Is a directory' : 'Directory nonexistent';
    return { stdout: '', stderr: `sh: ${line}: cannot create ${path}: ${why}\n`, code: 2 };
  }
  node.files.set(path, r.stdout);
  return { ...r, stdout: '' };
};

/** Runs a script as `sh -s` would on this node. */
export const runScript = (node: VirtualNode, script: string): Output => {
  const probe = recogniseProbe(script);
  if (probe) return node.withRouteIndex(() => answerProbe(node, script, probe.nonce));
  let stdout = '';
  let stderr = '';
  let code = 0;
  for (const [i, raw] of script.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const redirect = stdoutRedirect(line);
    const argv = words(redirect?.command ?? line);
    if (argv[0] === 'exit') {
      const n = argv[1] === undefined ? code : Number(argv[1]);
      return { stdout, stderr, code: Number.isInteger(n) ? n & 255 : 2 };
    }
    const run = runCommand(node, argv, i + 1);
    const r = redirect ? writeStdout(node, run, redirect.path, i + 1) : run;
    stdout += r.stdout;
    stderr += r.stderr;
    code = r.code;
  }
  return { stdout, stderr, code };
};
