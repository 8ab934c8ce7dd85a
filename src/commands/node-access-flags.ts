// Flags shared by every command that talks to nodes: which nodes, how they are reached, and SSH
// settings with OpenSSH's meanings. Parsing only; createNodeExec (src/nodes/create-exec.ts) uses them.
import { existsSync, statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parseDuration } from '../duration.ts';
import { UsageError } from '../errors.ts';
import { NODE_ADDRESS_PREFERENCES, type NodeAddressPreference } from '../nodes/select.ts';
import { integer } from './flag-parsers.ts';

// Repeatable without a default, so --help shows no "(default: [])".
const append = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export type NodeAccessMode = 'ssh' | 'kube-exec' | 'daemonset';
export const NODE_ACCESS_MODES: readonly NodeAccessMode[] = ['ssh', 'kube-exec', 'daemonset'];

export interface SshAccessOptions {
  readonly user?: string;
  readonly port?: number;
  /** --ssh-key, in the order given; each must exist. */
  readonly identityFiles: readonly string[];
  /** --ssh-config; undefined = ~/.ssh/config when it exists. */
  readonly configFile?: string;
  readonly knownHostsFile?: string;
  readonly acceptNew: boolean;
  readonly insecureSkipHostKeyCheck: boolean;
  readonly jumpHost?: string;
  readonly sudo: boolean;
}

export interface NodeAccessOptions {
  readonly mode: NodeAccessMode;
  /** --nodes: names to talk to (checked against the known nodes by selectNodes). */
  readonly nodes?: readonly string[];
  /** -l: node label selector, applied server-side when listing nodes. */
  readonly selector?: string;
  readonly inventoryFile?: string;
  /** undefined: flannel's public-ip annotation, then InternalIP. */
  readonly nodeAddress?: NodeAddressPreference;
  readonly ssh: SshAccessOptions;
  /** --node-image (kube-exec): the node-access pod's image; default the flannel DaemonSet's. */
  readonly nodeImage?: string;
  /** SSH: connect + handshake + login; kube-exec, daemonset: until the node-access pod runs (default 60s there). */
  readonly connectTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly concurrency: number;
}

export const DEFAULT_CONNECT_TIMEOUT = '10s';
export const DEFAULT_COMMAND_TIMEOUT = '60s';
export const DEFAULT_CONCURRENCY = 32;
/** kube-exec: creating, scheduling and starting a pod takes longer than an SSH handshake. */
export const DEFAULT_POD_START_TIMEOUT = '60s';

export const addNodeAccessOptions = (command: Command): Command =>
  command
    .addOption(
      new Option('--node-access <how>', 'how to run commands on nodes')
        .choices(NODE_ACCESS_MODES)
        .default('ssh'),
    )
    .option('--nodes <names>', 'only these nodes (comma-separated node names; repeatable)', append)
    .option(
      '-l, --selector <labels>',
      'only nodes matching this label selector (e.g. node-role.kubernetes.io/worker=)',
    )
    .option(
      '--inventory <file>',
      'YAML/JSON node list with addresses and SSH settings (works without a cluster)',
    )
    .addOption(
      new Option(
        '--node-address <type>',
        "address to connect to (default: flannel's public-ip annotation, then InternalIP)",
      ).choices(NODE_ADDRESS_PREFERENCES),
    )
    .option('--ssh-user <user>', 'remote user (default: ssh config User, then the local user)')
    .option('--ssh-port <port>', 'SSH port (default: ssh config Port, then 22)', integer('--ssh-port'))
    .option('--ssh-key <file>', 'identity file, tried after ssh-agent (repeatable)', append)
    .option('--ssh-config <file>', 'ssh config file (default ~/.ssh/config)')
    .option('--ssh-known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts)')
    .option(
      '--ssh-accept-new',
      'trust and record host keys of hosts not yet in known_hosts (never changed ones)',
    )
    .option('--ssh-insecure-skip-host-key-check', 'do not verify host keys at all (test labs only)')
    .option('--ssh-jump <host>', 'jump host, [user@]host[:port], comma-separated for a chain (like ssh -J)')
    .option('--ssh-sudo', 'run node commands through sudo -n when the remote user is not root')
    .option(
      '--node-image <image>',
      "kube-exec, daemonset: image of the node-access pods (default: the flannel DaemonSet's, already on every node)",
    )
    .option(
      '--connect-timeout <duration>',
      `per node: TCP connect + SSH handshake + login (kube-exec, daemonset: until its pod runs, default ${DEFAULT_POD_START_TIMEOUT})`,
      DEFAULT_CONNECT_TIMEOUT,
    )
    .option(
      '--command-timeout <duration>',
      'per node: how long the node commands may run',
      DEFAULT_COMMAND_TIMEOUT,
    )
    .option('--concurrency <n>', 'nodes talked to at once', integer('--concurrency'), DEFAULT_CONCURRENCY);

interface RawFlags {
  nodeAccess?: string;
  nodes?: string[];
  selector?: string;
  inventory?: string;
  nodeAddress?: NodeAddressPreference;
  sshUser?: string;
  sshPort?: number;
  sshKey?: string[];
  sshConfig?: string;
  sshKnownHosts?: string;
  sshAcceptNew?: boolean;
  sshInsecureSkipHostKeyCheck?: boolean;
  sshJump?: string;
  sshSudo?: boolean;
  nodeImage?: string;
  connectTimeout?: string;
  commandTimeout?: string;
  concurrency?: number;
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/;
// [user@]host[:port] per hop; host names or IPv4, or [IPv6].
const JUMP_HOP = /^([a-z_][a-z0-9_.-]{0,31}@)?([A-Za-z0-9][-A-Za-z0-9.]*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

// registry/path:tag or @digest, as the container runtimes accept them (lowercase repository).
const IMAGE_REF =
  /^([a-zA-Z0-9.-]+(:[0-9]+)?\/)?[a-z0-9]+([._-]+[a-z0-9]+)*(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/;

const SSH_FLAGS: readonly [keyof RawFlags, string][] = [
  ['sshUser', '--ssh-user'],
  ['sshPort', '--ssh-port'],
  ['sshKey', '--ssh-key'],
  ['sshConfig', '--ssh-config'],
  ['sshKnownHosts', '--ssh-known-hosts'],
  ['sshAcceptNew', '--ssh-accept-new'],
  ['sshInsecureSkipHostKeyCheck', '--ssh-insecure-skip-host-key-check'],
  ['sshJump', '--ssh-jump'],
  ['sshSudo', '--ssh-sudo'],
];

const requireFile = (flag: string, file: string): string => {
  if (!existsSync(file)) throw new UsageError(`${flag} ${file}: no such file`);
  if (!statSync(file).isFile()) throw new UsageError(`${flag} ${file}: not a regular file`);
  return file;
};

const positiveDuration = (flag: string, text: string): number => {
  const ms = parseDuration(text, flag);
  if (ms <= 0) throw new UsageError(`${flag} ${text} must be greater than zero`, `e.g. ${flag} 10s`);
  return ms;
};

/**
 * The node-access pod sees /proc/sys read-only and its own /etc: a sysctl change would fail or land in
 * the container, never persisted on the host. Changes therefore go over SSH.
 */
export const KUBE_EXEC_READ_ONLY = (flag: string): UsageError =>
  new UsageError(
    `${flag} cannot change nodes through --node-access kube-exec: its pods read the host, they cannot write /proc/sys or the host's /etc/sysctl.d`,
    `run ${flag} --dry-run to see the commands, or use --node-access ssh`,
  );

/** daemonset runs one batch of scripts everywhere and reads the answers back: for reading only. */
export const DAEMONSET_READ_ONLY = (what: string): UsageError =>
  new UsageError(
    `${what} cannot change nodes through --node-access daemonset: its one batch job per node is for reading`,
    `run it with --dry-run to see the commands, or use --node-access ssh`,
  );

/** The usage error for a node-changing flag in a mode that only reads; undefined over SSH. */
export const readOnlyAccessError = (flag: string, mode: NodeAccessMode): UsageError | undefined =>
  mode === 'kube-exec'
    ? KUBE_EXEC_READ_ONLY(flag)
    : mode === 'daemonset'
      ? DAEMONSET_READ_ONLY(flag)
      : undefined;

/** Parses the node-access flags of a command into options; every error names its flag. */
export const nodeAccessOptions = (command: Command): NodeAccessOptions => {
  const raw = command.opts<RawFlags>();
  const mode = (raw.nodeAccess ?? 'ssh') as NodeAccessMode;
  if (mode !== 'ssh') {
    const sshFlags = SSH_FLAGS.filter(([key]) => raw[key] !== undefined).map(([, flag]) => flag);
    if (sshFlags.length > 0) {
      throw new UsageError(
        `${sshFlags.join(', ')} ${sshFlags.length === 1 ? 'does' : 'do'} not apply to --node-access ${mode}`,
        `${mode} reaches nodes through pods created with the API: drop the SSH flags`,
      );
    }
  } else if (raw.nodeImage !== undefined) {
    throw new UsageError('--node-image applies only to --node-access kube-exec and daemonset');
  }
  if (raw.nodeImage !== undefined && !IMAGE_REF.test(raw.nodeImage)) {
    throw new UsageError(
      `--node-image ${JSON.stringify(raw.nodeImage)} is not an image reference`,
      'e.g. --node-image ghcr.io/flannel-io/flannel:v0.28.9',
    );
  }

  const nodes = [...new Set((raw.nodes ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()))];
  for (const name of nodes) {
    if (!NODE_NAME.test(name) || name.length > 253) {
      throw new UsageError(
        `--nodes: ${JSON.stringify(name)} is not a node name`,
        'give comma-separated node names, e.g. --nodes node-1,node-2',
      );
    }
  }
  const selector = raw.selector?.trim();
  if (raw.selector !== undefined && !selector)
    throw new UsageError('-l/--selector is empty', 'e.g. -l kubernetes.io/os=linux');
  if (selector && nodes.length > 0) {
    throw new UsageError(
      '--nodes and -l/--selector cannot be used together',
      'pick nodes by name or by label',
    );
  }

  const ssh = raw.sshUser;
  if (ssh !== undefined && !USER_NAME.test(ssh))
    throw new UsageError(`--ssh-user ${JSON.stringify(ssh)} is not a valid user name`);
  if (raw.sshPort !== undefined && !(raw.sshPort >= 1 && raw.sshPort <= 65535))
    throw new UsageError(`--ssh-port ${raw.sshPort} is not between 1 and 65535`);
  if (raw.sshAcceptNew && raw.sshInsecureSkipHostKeyCheck) {
    throw new UsageError(
      '--ssh-accept-new and --ssh-insecure-skip-host-key-check cannot be used together',
      '--ssh-accept-new still refuses changed host keys; the other skips every check',
    );
  }
  if (raw.sshKnownHosts !== undefined && raw.sshInsecureSkipHostKeyCheck) {
    throw new UsageError('--ssh-known-hosts and --ssh-insecure-skip-host-key-check cannot be used together');
  }
  // With --ssh-accept-new a missing known_hosts file is created on first use, as ssh does.
  if (raw.sshKnownHosts !== undefined && !raw.sshAcceptNew)
    requireFile('--ssh-known-hosts', raw.sshKnownHosts);
  const jump = raw.sshJump?.trim();
  if (raw.sshJump !== undefined && (!jump || !jump.split(',').every((hop) => JUMP_HOP.test(hop.trim())))) {
    throw new UsageError(
      `--ssh-jump ${JSON.stringify(raw.sshJump)} is not [user@]host[:port]`,
      'e.g. --ssh-jump admin@bastion.example.com:2222 (comma-separated for a chain)',
    );
  }

  const concurrency = raw.concurrency ?? DEFAULT_CONCURRENCY;
  if (concurrency < 1) throw new UsageError(`--concurrency ${concurrency} must be at least 1`);

  return {
    mode,
    ...(nodes.length > 0 ? { nodes } : {}),
    ...(selector ? { selector } : {}),
    ...(raw.inventory !== undefined ? { inventoryFile: requireFile('--inventory', raw.inventory) } : {}),
    ...(raw.nodeAddress ? { nodeAddress: raw.nodeAddress } : {}),
    ssh: {
      ...(ssh !== undefined ? { user: ssh } : {}),
      ...(raw.sshPort !== undefined ? { port: raw.sshPort } : {}),
      identityFiles: (raw.sshKey ?? []).map((file) => requireFile('--ssh-key', file)),
      ...(raw.sshConfig !== undefined ? { configFile: requireFile('--ssh-config', raw.sshConfig) } : {}),
      ...(raw.sshKnownHosts !== undefined ? { knownHostsFile: raw.sshKnownHosts } : {}),
      acceptNew: Boolean(raw.sshAcceptNew),
      insecureSkipHostKeyCheck: Boolean(raw.sshInsecureSkipHostKeyCheck),
      ...(jump ? { jumpHost: jump } : {}),
      sudo: Boolean(raw.sshSudo),
    },
    ...(raw.nodeImage !== undefined ? { nodeImage: raw.nodeImage } : {}),
    connectTimeoutMs: positiveDuration(
      '--connect-timeout',
      mode !== 'ssh' && command.getOptionValueSource('connectTimeout') === 'default'
        ? DEFAULT_POD_START_TIMEOUT
        : (raw.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT),
    ),
    commandTimeoutMs: positiveDuration('--command-timeout', raw.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT),
    concurrency,
  };
};
