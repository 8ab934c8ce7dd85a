// NodeExec over SSH (ssh2): one connection per node per run, scripts sent on stdin to `sh -s`.
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { InterruptedError } from '../errors.ts';
import {
  NodeAccessError,
  describeTarget,
  validateNodeTarget,
  type ExecResult,
  type NodeExec,
  type NodeTarget,
  type RunOptions,
} from './exec.ts';
import { verifyHostKey, loadKnownHosts, type HostKeyPolicy } from './host-key-check.ts';
import { knownKeyTypes } from './known-hosts.ts';
import { Pool } from './pool.ts';
import { KeyStore, defaultIdentityFiles } from './ssh-auth.ts';
import { loadSshConfig, parseProxyJump, resolveSshConfig, type JumpHost } from './ssh-config.ts';

export interface SshExecOptions {
  /** Remote user when the node entry has none; default: ssh config User, then the local user. */
  readonly user?: string;
  readonly port?: number;
  /** Tried after ssh-agent, before the identity files from ssh config. */
  readonly identityFiles?: readonly string[];
  /** ssh config file; default ~/.ssh/config (if it exists); false ignores ssh config. */
  readonly sshConfigFile?: string | false;
  /** Default ~/.ssh/known_hosts (plus /etc/ssh/ssh_known_hosts for reading). */
  readonly knownHostsFile?: string;
  readonly acceptNew?: boolean;
  readonly insecureSkipHostKeyCheck?: boolean;
  /** `[user@]host[:port]`, comma-separated for a chain; overrides ProxyJump from ssh config. */
  readonly jumpHost?: string;
  /** Run scripts through `sudo -n` when the remote user is not root. */
  readonly sudo?: boolean;
  readonly agentSocket?: string | false;
  readonly passphrase?: (keyFile: string) => Promise<string | undefined>;
  readonly env?: NodeJS.ProcessEnv;
  /** Nodes talked to at once. */
  readonly concurrency?: number;
  /** TCP connect + SSH handshake + authentication, per hop. */
  readonly connectTimeoutMs?: number;
  readonly home?: string;
}

/** Scripts per connection at once; OpenSSH allows 10 sessions per connection by default. */
const CHANNELS_PER_CONNECTION = 8;

// ssh2's default host key algorithms, in its order; known types are moved first (as OpenSSH does) so
// a host on record with an RSA key is not asked for an ed25519 one it was never trusted with.
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

const preferKnownTypes = (types: readonly string[]): string[] => {
  const wanted = types.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  const first = HOST_KEY_ALGORITHMS.filter((a) => wanted.includes(a));
  return [...first, ...HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
};

interface Endpoint {
  readonly target: NodeTarget;
  readonly address: string;
  readonly port: number;
  readonly user: string;
  readonly identityFiles: readonly { file: string; required: boolean }[];
  readonly knownHostsFiles: readonly string[];
  readonly jump: readonly JumpHost[];
}

interface Connection {
  readonly client: Client;
  readonly channels: Pool;
  readonly user: string;
}

const localUser = (): string => {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
};

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
]);

export class SshExec implements NodeExec {
  private readonly pool: Pool;
  private readonly keys: KeyStore;
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly clients = new Set<Client>();
  private readonly home: string;
  private readonly connectTimeoutMs: number;
  private config: ReturnType<typeof loadSshConfig> | undefined;
  private closed = false;

  constructor(private readonly options: SshExecOptions = {}) {
    this.pool = new Pool(options.concurrency ?? 32);
    this.keys = new KeyStore({
      env: options.env ?? process.env,
      ...(options.passphrase ? { passphrase: options.passphrase } : {}),
      ...(options.agentSocket !== undefined ? { agentSocket: options.agentSocket } : {}),
    });
    this.home = options.home ?? homedir();
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  }

  async run(node: NodeTarget, script: string, opts: RunOptions): Promise<ExecResult> {
    validateNodeTarget(node);
    if (this.closed) throw new Error('SshExec is closed');
    return this.pool.use(async () => {
      const connection = await this.connection(node, opts.signal);
      return connection.channels.use(() => this.exec(node, connection, script, opts), opts.signal);
    }, opts.signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    const closing = [...this.clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          client.once('close', () => resolve());
          client.end();
          // A peer that never answers the disconnect must not hold up the run.
          setTimeout(() => {
            client.destroy();
            resolve();
          }, 1000).unref();
        }),
    );
    await Promise.all(closing);
    this.connections.clear();
  }

  private sshConfig(): ReturnType<typeof loadSshConfig> {
    if (this.options.sshConfigFile === false) return Promise.resolve(undefined);
    this.config ??= loadSshConfig(this.options.sshConfigFile, { home: this.home, localUser: localUser() });
    return this.config;
  }

  private async endpoint(target: NodeTarget, isJump: boolean): Promise<Endpoint> {
    const config = resolveSshConfig(await this.sshConfig(), target.address, {
      home: this.home,
      localUser: localUser(),
    });
    const address = config.hostName ?? target.address;
    validateNodeTarget({ ...target, address });
    const port = target.port ?? (isJump ? undefined : this.options.port) ?? config.port ?? 22;
    const user = target.user ?? (isJump ? undefined : this.options.user) ?? config.user ?? localUser();
    const explicit = (this.options.identityFiles ?? []).map((file) => ({ file, required: true }));
    const fromConfig = config.identityFiles.map((file) => ({ file, required: false }));
    const defaults =
      explicit.length + fromConfig.length === 0
        ? defaultIdentityFiles(this.home).map((file) => ({ file, required: false }))
        : [];
    const knownHostsFiles = this.options.knownHostsFile
      ? [this.options.knownHostsFile]
      : [
          ...(config.userKnownHostsFiles ?? [join(this.home, '.ssh', 'known_hosts')]),
          '/etc/ssh/ssh_known_hosts',
        ];
    const jump = isJump
      ? []
      : this.options.jumpHost !== undefined
        ? (parseProxyJump(this.options.jumpHost) ?? [])
        : (config.proxyJump ?? []);
    return {
      target,
      address,
      port,
      user,
      identityFiles: [...explicit, ...fromConfig, ...defaults],
      knownHostsFiles,
      jump,
    };
  }

  /** One connection per node (and per jump host) for the whole run; failures are remembered too. */
  private connection(node: NodeTarget, signal?: AbortSignal): Promise<Connection> {
    const key = `${node.name}|${node.user ?? ''}@${node.address}:${node.port ?? ''}`;
    let pending = this.connections.get(key);
    if (!pending) {
      pending = this.endpoint(node, false).then((endpoint) => this.connectVia(endpoint, signal));
      this.connections.set(key, pending);
      // An interrupted attempt is not a verdict on the node: let a later run try again.
      pending.catch((error: unknown) => {
        if (error instanceof InterruptedError) this.connections.delete(key);
      });
    }
    return pending;
  }

  private async connectVia(endpoint: Endpoint, signal?: AbortSignal): Promise<Connection> {
    let sock: ClientChannel | undefined;
    if (endpoint.jump.length > 0) {
      // Each hop is reached through the previous one; the last hop forwards to the node.
      let previous: Connection | undefined;
      let previousName = '';
      for (const [index, hop] of endpoint.jump.entries()) {
        const name = `jump-${index + 1}`;
        const hopTarget: NodeTarget = {
          name,
          address: hop.host,
          ...(hop.port ? { port: hop.port } : {}),
          ...(hop.user ? { user: hop.user } : {}),
        };
        const hopEndpoint = await this.endpoint(hopTarget, true);
        const hopSock: ClientChannel | undefined = previous
          ? await this.forward(previous, previousName, hopEndpoint)
          : undefined;
        previous = await this.connect(hopEndpoint, signal, hopSock, endpoint.target);
        previousName = name;
      }
      sock = await this.forward(previous!, previousName, endpoint);
    }
    return this.connect(endpoint, signal, sock);
  }

  private forward(via: Connection, viaName: string, to: Endpoint): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      via.client.forwardOut('127.0.0.1', 0, to.address, to.port, (error, stream) => {
        if (error) {
          reject(
            new NodeAccessError(
              'unreachable',
              to.target.name,
              `${describeTarget({ ...to.target, address: to.address, port: to.port })}: the jump host (${viaName}) could not open a connection to it: ${error.message}`,
              'check that the jump host can reach the node, and that AllowTcpForwarding is enabled on it',
              error,
            ),
          );
        } else resolve(stream);
      });
    });
  }

  private async connect(
    endpoint: Endpoint,
    signal: AbortSignal | undefined,
    sock: ClientChannel | undefined,
    forNode?: NodeTarget,
  ): Promise<Connection> {
    if (signal?.aborted) throw new InterruptedError();
    const where = describeTarget({ ...endpoint.target, address: endpoint.address, port: endpoint.port });
    const prefix = forNode ? `${describeTarget(forNode)} via jump host ${where}` : where;
    const policy: HostKeyPolicy = {
      knownHostsFiles: endpoint.knownHostsFiles,
      ...(this.options.acceptNew ? { acceptNew: true } : {}),
      ...(this.options.insecureSkipHostKeyCheck ? { insecureSkipHostKeyCheck: true } : {}),
    };
    const known = await loadKnownHosts(endpoint.knownHostsFiles);
    const authHandler = await this.keys.methods(endpoint.user, endpoint.identityFiles);
    const client = new Client();
    this.clients.add(client);
    client.once('close', () => this.clients.delete(client));
    let hostKeyError: NodeAccessError | undefined;

    const config: ConnectConfig = {
      host: endpoint.address,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: this.connectTimeoutMs,
      keepaliveInterval: 15_000,
      authHandler,
      algorithms: {
        serverHostKey: preferKnownTypes(
          knownKeyTypes(known, endpoint.address, endpoint.port),
        ) as ServerHostKeyAlgorithm[],
      },
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        verifyHostKey(endpoint.target, endpoint.address, endpoint.port, key, policy).then(
          (error) => {
            hostKeyError = error;
            verify(error === undefined);
          },
          (error: unknown) => {
            hostKeyError = new NodeAccessError(
              'host-key-unknown',
              endpoint.target.name,
              `${where}: cannot check the host key: ${(error as Error).message}`,
            );
            verify(false);
          },
        );
      },
      ...(sock ? { sock } : {}),
    };

    return new Promise<Connection>((resolve, reject) => {
      let settled = false;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error) {
          client.destroy();
          reject(error);
        } else {
          resolve({ client, channels: new Pool(CHANNELS_PER_CONNECTION), user: endpoint.user });
        }
      };
      // Covers the TCP connect, which ssh2's readyTimeout alone does not bound on every path.
      const timer = setTimeout(
        () =>
          finish(
            new NodeAccessError(
              'unreachable',
              endpoint.target.name,
              `${prefix}: no SSH connection within ${this.connectTimeoutMs} ms`,
              'check that the node is up, the address and port are right, and no firewall drops SSH',
            ),
          ),
        this.connectTimeoutMs,
      );
      const onAbort = (): void => finish(new InterruptedError());
      signal?.addEventListener('abort', onAbort, { once: true });

      client.once('ready', () => {
        // Without this every exec waits on Nagle + delayed ACK (~40 ms each).
        client.setNoDelay(true);
        finish();
      });
      client.on('error', (error: Error & { level?: string; code?: string }) => {
        if (!settled) finish(hostKeyError ?? this.classify(error, prefix, endpoint));
      });
      client.once('close', () => {
        // A dropped connection is forgotten so the next run reconnects.
        for (const [key, pending] of this.connections) {
          pending.then(
            (c) => c.client === client && this.connections.delete(key),
            () => undefined,
          );
        }
        finish(
          hostKeyError ??
            new NodeAccessError(
              'unreachable',
              endpoint.target.name,
              `${prefix}: connection closed during the handshake`,
            ),
        );
      });
      client.connect(config);
    });
  }

  private classify(
    error: Error & { level?: string; code?: string },
    prefix: string,
    endpoint: Endpoint,
  ): NodeAccessError {
    const name = endpoint.target.name;
    if (error.level === 'client-authentication') {
      const tried = endpoint.identityFiles.map((f) => f.file);
      return new NodeAccessError(
        'auth',
        name,
        `${prefix}: authentication as ${endpoint.user} failed (tried ${
          [this.keys.agentSocket() ? 'ssh-agent' : '', ...tried].filter(Boolean).join(', ') ||
          'no keys at all'
        })`,
        `check that one of these keys is in ~${endpoint.user}/.ssh/authorized_keys on the node, or pass the right user and identity file`,
        error,
      );
    }
    if (error.level === 'client-timeout') {
      return new NodeAccessError(
        'unreachable',
        name,
        `${prefix}: no SSH handshake within ${this.connectTimeoutMs} ms`,
        'check that the node is up and that sshd listens on that port',
        error,
      );
    }
    if (error.code && UNREACHABLE_CODES.has(error.code)) {
      return new NodeAccessError(
        'unreachable',
        name,
        `${prefix}: cannot connect (${error.code})`,
        'check that the node is up, the address and port are right, and sshd is running',
        error,
      );
    }
    return new NodeAccessError(
      'unreachable',
      name,
      `${prefix}: SSH connection failed: ${error.message}`,
      undefined,
      error,
    );
  }

  private exec(
    node: NodeTarget,
    connection: Connection,
    script: string,
    opts: RunOptions,
  ): Promise<ExecResult> {
    const where = describeTarget(node);
    const useSudo = this.options.sudo === true && connection.user !== 'root';
    // The script travels on stdin: nothing of it appears on a command line or in the process list.
    const command = useSudo ? 'sudo -n sh -s' : 'sh -s';
    return new Promise<ExecResult>((resolve, reject) => {
      if (opts.signal?.aborted) {
        reject(new InterruptedError());
        return;
      }
      let channel: ClientChannel | undefined;
      let settled = false;
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let exitCode: number | undefined;
      let exitSignal: string | undefined;
      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (error) {
          reject(error);
          return;
        }
        const result: ExecResult = {
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          exitCode: exitCode ?? 255,
          ...(exitSignal ? { signal: exitSignal } : {}),
        };
        if (
          useSudo &&
          result.exitCode === 1 &&
          /^sudo: .*(password is required|not in the sudoers|not allowed)/m.test(result.stderr)
        ) {
          reject(
            new NodeAccessError(
              'auth',
              node.name,
              `${where}: sudo refused to run the script as root for ${connection.user}: ${result.stderr.trim()}`,
              `allow passwordless sudo for ${connection.user} (NOPASSWD) or connect as root`,
            ),
          );
          return;
        }
        resolve(result);
      };
      const stop = (): void => {
        if (!channel) return;
        try {
          channel.signal('KILL');
        } catch {
          /* the server may not support signals; closing the channel still ends our side */
        }
        channel.close();
      };
      const timer = setTimeout(() => {
        stop();
        finish(
          new NodeAccessError(
            'timeout',
            node.name,
            `${where}: the command did not finish within ${opts.timeoutMs} ms`,
            'the node may be overloaded or a command is hanging; raise --timeout if it is just slow',
          ),
        );
      }, opts.timeoutMs);
      const onAbort = (): void => {
        stop();
        finish(new InterruptedError());
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });

      connection.client.exec(command, (error, stream) => {
        if (error) {
          finish(
            new NodeAccessError(
              'channel',
              node.name,
              `${where}: cannot start a session: ${error.message}`,
              'the node may limit sessions per connection (MaxSessions) or be shutting down',
              error,
            ),
          );
          return;
        }
        channel = stream;
        if (settled) {
          stop();
          return;
        }
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('exit', (code: number | null, signalName?: string) => {
          if (typeof code === 'number') exitCode = code;
          if (signalName) exitSignal = signalName;
        });
        stream.on('close', () => finish());
        stream.on('error', (e: Error) =>
          finish(
            new NodeAccessError('channel', node.name, `${where}: session failed: ${e.message}`, undefined, e),
          ),
        );
        stream.end(script.endsWith('\n') ? script : `${script}\n`);
      });
    });
  }
}

export const createSshExec = (options: SshExecOptions = {}): NodeExec => new SshExec(options);
