// ~/.ssh/config resolution for the few settings flannelctl honours, so `ssh node-1` and flannelctl agree.
import { readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import SSHConfig from 'ssh-config';
import { UsageError } from '../errors.ts';

export interface ResolvedSshConfig {
  readonly hostName?: string;
  readonly user?: string;
  readonly port?: number;
  readonly identityFiles: readonly string[];
  readonly proxyJump?: readonly JumpHost[];
  readonly userKnownHostsFiles?: readonly string[];
}

export interface JumpHost {
  readonly host: string;
  readonly user?: string;
  readonly port?: number;
}

export interface ExpandContext {
  readonly home: string;
  readonly localUser: string;
}

export const defaultExpandContext = (): ExpandContext => ({
  home: homedir(),
  localUser: safeUserName(),
});

const safeUserName = (): string => {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
};

/**
 * Reads an ssh config file. The default file may be absent; a file the user named must exist.
 * Returns undefined when there is nothing to apply.
 */
export const loadSshConfig = async (
  path: string | undefined,
  context: ExpandContext = defaultExpandContext(),
): Promise<SSHConfig | undefined> => {
  const file = path ?? join(context.home, '.ssh', 'config');
  try {
    return SSHConfig.parse(await readFile(expandTilde(file, context.home), 'utf8'));
  } catch (error) {
    if (path === undefined && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(
      `cannot read ssh config ${file}: ${(error as Error).message}`,
      'check --ssh-config, or leave it out to use ~/.ssh/config',
    );
  }
};

export const expandTilde = (path: string, home: string): string =>
  path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;

/** The ssh_config(5) tokens that make sense for these settings. */
const expandTokens = (
  value: string,
  host: string,
  user: string | undefined,
  context: ExpandContext,
): string =>
  expandTilde(value, context.home).replace(/%([%dhru])/g, (_, token: string) => {
    switch (token) {
      case '%':
        return '%';
      case 'd':
        return context.home;
      case 'h':
        return host;
      case 'r':
        return user ?? context.localUser;
      default:
        return context.localUser;
    }
  });

const first = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

const parsePort = (value: string | undefined, where: string): number | undefined => {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`ssh config: Port ${JSON.stringify(value)} for ${where} is not a port number`);
  }
  return port;
};

/** `[user@]host[:port]`, comma-separated for a chain; "none" disables jumping. */
export const parseProxyJump = (value: string): JumpHost[] | undefined => {
  if (value.trim().toLowerCase() === 'none') return undefined;
  return value.split(',').map((hop) => {
    const trimmed = hop.trim().replace(/^ssh:\/\//, '');
    const match = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/.exec(trimmed);
    if (!match) throw new UsageError(`jump host ${JSON.stringify(hop)} is not [user@]host[:port]`);
    const [, user, host, port] = match;
    return {
      host: host!.replace(/^\[|\]$/g, ''),
      ...(user ? { user } : {}),
      ...(port ? { port: parsePort(port, hop)! } : {}),
    };
  });
};

/**
 * First value wins, as in OpenSSH; IdentityFile accumulates. `Match exec` is never evaluated: flannelctl does
 * not run commands from config files.
 */
export const resolveSshConfig = (
  config: SSHConfig | undefined,
  host: string,
  context: ExpandContext = defaultExpandContext(),
): ResolvedSshConfig => {
  if (!config) return { identityFiles: [] };
  const computed = config.compute(host, { ignoreCase: true, matchExec: false });
  const user = first(computed.user);
  const hostName = first(computed.hostname);
  const identity = computed.identityfile;
  const identityFiles = (Array.isArray(identity) ? identity : identity ? [identity] : []).map((f) =>
    expandTokens(f, hostName ?? host, user, context),
  );
  const jump = first(computed.proxyjump);
  const knownHosts = computed.userknownhostsfile;
  const knownHostsFiles = (Array.isArray(knownHosts) ? knownHosts : knownHosts ? [knownHosts] : [])
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandTokens(f, hostName ?? host, user, context));
  const port = parsePort(first(computed.port), host);
  const proxyJump = jump ? parseProxyJump(jump) : undefined;
  return {
    identityFiles,
    ...(hostName ? { hostName: hostName.replace(/%h/g, host) } : {}),
    ...(user ? { user } : {}),
    ...(port ? { port } : {}),
    ...(proxyJump ? { proxyJump } : {}),
    ...(knownHostsFiles.length ? { userKnownHostsFiles: knownHostsFiles } : {}),
  };
};
