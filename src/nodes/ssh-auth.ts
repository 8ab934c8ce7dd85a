// Client credentials: ssh-agent first, then identity files (decrypted with a passphrase when needed).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2, { type AnyAuthMethod, type ParsedKey } from 'ssh2';
import { UsageError } from '../errors.ts';

export interface CredentialOptions {
  /** Asked for the passphrase of an encrypted key (the CLI prompts on a TTY); undefined = none. */
  readonly passphrase?: (keyFile: string) => Promise<string | undefined>;
  /** FLANNELCTL_SSH_PASSPHRASE and SSH_AUTH_SOCK are read from here. */
  readonly env: NodeJS.ProcessEnv;
  /** Agent socket; false disables the agent. Default: env SSH_AUTH_SOCK. */
  readonly agentSocket?: string | false;
}

export interface LoadedKey {
  readonly file: string;
  readonly key: ParsedKey;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** ssh's own defaults, when neither options nor ssh config name an identity file. */
export const defaultIdentityFiles = (home: string): string[] =>
  DEFAULT_KEYS.map((name) => join(home, '.ssh', name)).filter((file) => existsSync(file));

const isEncryptedError = (error: Error): boolean => /encrypted|passphrase/i.test(error.message);

/**
 * Loads identity files once per run. A file the user named explicitly must be usable; default files and
 * those from ssh config that are missing are skipped, as ssh does.
 */
export class KeyStore {
  private readonly cache = new Map<string, Promise<LoadedKey | undefined>>();

  constructor(private readonly options: CredentialOptions) {}

  load(file: string, required: boolean): Promise<LoadedKey | undefined> {
    let pending = this.cache.get(file);
    if (!pending) {
      pending = this.read(file, required);
      this.cache.set(file, pending);
    }
    return pending;
  }

  private async read(file: string, required: boolean): Promise<LoadedKey | undefined> {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (error) {
      if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new UsageError(`cannot read identity file ${file}: ${(error as Error).message}`);
    }
    let parsed = ssh2.utils.parseKey(data);
    if (parsed instanceof Error && isEncryptedError(parsed)) {
      const passphrase =
        this.options.env.FLANNELCTL_SSH_PASSPHRASE || (await this.options.passphrase?.(file));
      if (!passphrase) {
        throw new UsageError(
          `identity file ${file} is encrypted and no passphrase was given`,
          'set FLANNELCTL_SSH_PASSPHRASE, run from a terminal to be prompted, or load the key into ssh-agent',
        );
      }
      parsed = ssh2.utils.parseKey(data, passphrase);
      if (parsed instanceof Error) {
        throw new UsageError(`cannot decrypt identity file ${file}: wrong passphrase? (${parsed.message})`);
      }
    }
    if (parsed instanceof Error) {
      throw new UsageError(`identity file ${file} is not a private key ssh2 can use: ${parsed.message}`);
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key || key.isPrivateKey?.() === false) {
      throw new UsageError(`identity file ${file} holds no private key`);
    }
    return { file, key };
  }

  agentSocket(): string | undefined {
    const socket = this.options.agentSocket ?? this.options.env.SSH_AUTH_SOCK;
    return socket && existsSync(socket) ? socket : undefined;
  }

  /** The authentication methods to offer, in OpenSSH's order: agent keys, then identity files. */
  async methods(
    username: string,
    files: readonly { file: string; required: boolean }[],
  ): Promise<AnyAuthMethod[]> {
    const methods: AnyAuthMethod[] = [];
    const agent = this.agentSocket();
    if (agent) methods.push({ type: 'agent', username, agent });
    for (const { file, required } of files) {
      const loaded = await this.load(file, required);
      if (loaded) methods.push({ type: 'publickey', username, key: loaded.key });
    }
    return methods;
  }
}
