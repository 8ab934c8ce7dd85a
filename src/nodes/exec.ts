// The one port every node-level operation goes through. Adapters: SSH (ssh.ts), kube-exec, daemonset and fakes.
import ipaddr from 'ipaddr.js';
import { IncompleteError, UsageError } from '../errors.ts';

/** A node as the user's inventory or the Kubernetes API names it, and where to reach it. */
export interface NodeTarget {
  /** Kubernetes node name (used in messages and for per-node settings). */
  readonly name: string;
  /** IP address or DNS name to connect to. */
  readonly address: string;
  readonly port?: number;
  readonly user?: string;
}

/** What the script did. A non-zero exit code is a result, never an error. */
export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** 255 when the remote side gave no exit status (as OpenSSH's client reports it). */
  readonly exitCode: number;
  /** Set when the remote process was killed by a signal (e.g. "TERM"). */
  readonly signal?: string;
}

export interface RunOptions {
  readonly signal?: AbortSignal;
  /** Bounds the command itself; connecting has its own timeout in the adapter. */
  readonly timeoutMs: number;
}

/** A script meant for one node. */
export interface NodeJob {
  readonly node: NodeTarget;
  readonly script: string;
}

export interface NodeExec {
  /**
   * Optional: the scripts run() is about to be called with, all at once, so an adapter that fans out
   * in one go (the DaemonSet) starts every node together instead of as run() calls trickle in.
   */
  prepare?(jobs: readonly NodeJob[], opts: RunOptions): void;
  run(node: NodeTarget, script: string, opts: RunOptions): Promise<ExecResult>;
  /** Closes every connection opened by this instance. */
  close(): Promise<void>;
}

export type NodeAccessErrorKind =
  'unreachable' | 'auth' | 'host-key-unknown' | 'host-key-changed' | 'timeout' | 'channel' | 'aborted';

/**
 * The transport failed: nothing (or not everything) ran on the node. Facts from this node are missing,
 * hence "incomplete" (exit 3) unless a command decides otherwise.
 */
export class NodeAccessError extends IncompleteError {
  constructor(
    readonly kind: NodeAccessErrorKind,
    readonly node: string,
    message: string,
    hint?: string,
    override readonly cause?: unknown,
  ) {
    super(message, hint);
  }
}

/** "node-2 (192.168.77.12:22)": how every message names a node. */
export const describeTarget = (node: NodeTarget): string => {
  const port = node.port ?? 22;
  const host = node.address.includes(':') ? `[${node.address}]` : node.address;
  return `${node.name} (${host}:${port})`;
};

// DNS-1123 subdomain, what Kubernetes accepts as a node name.
const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// RFC 1123 host name; underscores and leading dashes are refused (a leading dash becomes an option).
const HOST_NAME =
  /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*\.?$/;
// POSIX-ish user names as useradd accepts them.
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/;

/** True for a plain dotted-quad or a standard IPv6 literal; "0x7f.1" and friends are refused. */
export const isIpLiteral = (value: string): boolean =>
  ipaddr.IPv4.isValidFourPartDecimal(value) || (value.includes(':') && ipaddr.IPv6.isValid(value));

// "0x7f.1" or "2130706433" resolve to 127.0.0.1 through inet_aton: neither a fair host name nor a plain IP.
const looksNumeric = (value: string): boolean =>
  ipaddr.IPv4.isValid(value) || /^[0-9.]+$/.test(value) || /(^|\.)(0x[0-9a-f]*|[0-9]+)\.?$/i.test(value);

/**
 * Node names, addresses, ports and users end up in messages, ssh options and fix-it commands that the user
 * copies into a shell: anything beyond the plain forms is refused here, before a connection is attempted.
 */
export const validateNodeTarget = (node: NodeTarget): NodeTarget => {
  const what = `node ${JSON.stringify(node.name)}`;
  if (typeof node.name !== 'string' || node.name.length > 253 || !NODE_NAME.test(node.name)) {
    throw new UsageError(
      `${what}: not a valid node name`,
      'node names are lowercase DNS subdomains (letters, digits, "-" and ".")',
    );
  }
  const address = node.address;
  if (
    typeof address !== 'string' ||
    address.length === 0 ||
    address.length > 253 ||
    !(isIpLiteral(address) || (!looksNumeric(address) && HOST_NAME.test(address)))
  ) {
    throw new UsageError(
      `${what}: address ${JSON.stringify(address)} is not an IP address or host name`,
      'give a plain IPv4/IPv6 address or a DNS name',
    );
  }
  if (node.port !== undefined && !(Number.isInteger(node.port) && node.port >= 1 && node.port <= 65535)) {
    throw new UsageError(`${what}: port ${String(node.port)} is not between 1 and 65535`);
  }
  if (node.user !== undefined && !USER_NAME.test(node.user)) {
    throw new UsageError(`${what}: user ${JSON.stringify(node.user)} is not a valid user name`);
  }
  return node;
};
