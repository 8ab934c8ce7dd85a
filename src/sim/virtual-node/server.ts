// One ssh2 Server per virtual node on 127.0.0.1 with its own ed25519 host key: the SSH adapter's
// handshake, public-key authentication and known_hosts verification run for real; scripts arriving
// on `sh -s` are answered by the node's interpreter instead of a shell.
import type { AddressInfo } from 'node:net';
import ssh2, { type Connection, type ParsedKey, type ServerChannel } from 'ssh2';
import { formatKnownHostsLine } from '../../nodes/known-hosts.ts';
import type { VirtualNode } from './model.ts';
import { runScript } from './shell.ts';

// ssh2 is CommonJS: only its default export is reliably visible to ESM.
const { Server, utils } = ssh2;
type Server = InstanceType<typeof ssh2.Server>;

export interface KeyPair {
  /** OpenSSH private key text. */
  readonly private: string;
  /** "ssh-ed25519 AAAA…". */
  readonly public: string;
}

/**
 * ssh2 (1.17) emits an OpenSSH private key it cannot parse back about once in 250 ed25519 keys
 * ("Malformed OpenSSH private key"), so each key is checked and regenerated when needed.
 */
export const generateEd25519 = (comment: string): KeyPair => {
  for (let attempt = 0; ; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    if (!(utils.parseKey(pair.private) instanceof Error))
      return { private: pair.private, public: pair.public };
    if (attempt >= 20) throw new Error('could not generate a usable ed25519 key');
  }
};

const parse = (text: string): ParsedKey => {
  const key = utils.parseKey(text);
  if (key instanceof Error) throw key;
  return Array.isArray(key) ? key[0]! : key;
};

export interface VirtualNodeServerOptions {
  readonly node: VirtualNode;
  /** The one client public key accepted ("ssh-ed25519 AAAA…"). */
  readonly authorizedKey: string;
  /** 0 (default) picks a free port; later restarts reuse the first one. */
  readonly port?: number;
}

export class VirtualNodeServer {
  readonly node: VirtualNode;
  private hostKey: KeyPair;
  private readonly authorized: ParsedKey;
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private readonly hanging = new Set<ServerChannel>();
  private hangs = false;
  private boundPort: number;

  constructor(options: VirtualNodeServerOptions) {
    this.node = options.node;
    this.hostKey = generateEd25519(options.node.hostname);
    this.authorized = parse(options.authorizedKey);
    this.boundPort = options.port ?? 0;
  }

  get port(): number {
    return this.boundPort;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA…` for the current host key. */
  knownHostsLine(): string {
    return formatKnownHostsLine('127.0.0.1', this.boundPort, parse(this.hostKey.private).getPublicSSH());
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = new Server({ hostKeys: [this.hostKey.private] }, (client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Refuses connections from now on (ECONNREFUSED) and drops the open ones. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const channel of this.hanging) channel.close();
    this.hanging.clear();
    for (const client of this.connections) client.end();
    this.connections.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The node "was reinstalled": a new host key on the same port, so known_hosts no longer matches. */
  async rotateHostKey(): Promise<void> {
    const wasRunning = this.running;
    await this.stop();
    this.hostKey = generateEd25519(this.node.hostname);
    if (wasRunning) await this.start();
  }

  /** While set, scripts are accepted but never answered (a hung node); the client's timeout ends them. */
  hang(on = true): void {
    this.hangs = on;
    if (!on) {
      for (const channel of this.hanging) channel.close();
      this.hanging.clear();
    }
  }

  private accept(client: Connection): void {
    this.connections.add(client);
    client.on('close', () => this.connections.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const known =
        ctx.key.algo === this.authorized.type && ctx.key.data.equals(this.authorized.getPublicSSH());
      if (!known) return ctx.reject(['publickey']);
      // Without a signature the client only asks whether the key would do.
      if (!ctx.signature || !ctx.blob) return ctx.accept();
      if (this.authorized.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) ctx.accept();
      else ctx.reject(['publickey']);
    });
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('exec', (acceptExec, _reject, info) => {
          const channel = acceptExec();
          this.exec(channel, info.command);
        });
      });
    });
  }

  private exec(channel: ServerChannel, command: string): void {
    // `sh -s` reads the script from stdin; anything else is a one-line script given as the command.
    const fromStdin = /^(sudo -n )?sh -s$/.test(command.trim());
    const chunks: Buffer[] = [];
    channel.on('data', (chunk: Buffer) => chunks.push(chunk));
    channel.on('error', () => undefined);
    const answer = (): void => {
      if (this.hangs) {
        this.hanging.add(channel);
        channel.on('close', () => this.hanging.delete(channel));
        return;
      }
      const script = fromStdin ? Buffer.concat(chunks).toString('utf8') : `${command}\n`;
      const result = runScript(this.node, script);
      if (result.stdout) channel.write(result.stdout);
      if (result.stderr) channel.stderr.write(result.stderr);
      channel.exit(result.code);
      channel.end();
    };
    if (fromStdin) channel.once('end', answer);
    else answer();
  }
}

export const startVirtualNodeServer = async (
  options: VirtualNodeServerOptions,
): Promise<VirtualNodeServer> => {
  const server = new VirtualNodeServer(options);
  await server.start();
  return server;
};
