// known_hosts parsing and matching as OpenSSH does it (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), so that a
// file the operator already trusts for `ssh` is trusted the same way here.
import { createHash, createHmac, randomBytes } from 'node:crypto';

export type KnownHostsMarker = 'revoked' | 'cert-authority';

export interface KnownHostsEntry {
  readonly file: string;
  /** 1-based line number, for messages. */
  readonly line: number;
  readonly marker?: KnownHostsMarker;
  /** Comma-separated patterns, or one hashed `|1|salt|hash` name. */
  readonly hosts: string;
  readonly keyType: string;
  /** The public key blob (SSH wire format), as the server presents it. */
  readonly key: Buffer;
}

export type HostKeyVerdict =
  | { readonly status: 'known'; readonly entry: KnownHostsEntry }
  | { readonly status: 'unknown'; readonly certAuthorities: readonly KnownHostsEntry[] }
  | { readonly status: 'changed'; readonly expected: readonly KnownHostsEntry[] }
  | { readonly status: 'revoked'; readonly entry: KnownHostsEntry };

/** Malformed lines are skipped, as OpenSSH does; they never match anything. */
export const parseKnownHosts = (text: string, file = 'known_hosts'): KnownHostsEntry[] => {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostsMarker | undefined;
    if (fields[0].startsWith('@')) {
      const name = fields.shift()!.slice(1);
      if (name !== 'revoked' && name !== 'cert-authority') return;
      marker = name;
    }
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return;
    const key = Buffer.from(base64, 'base64');
    // The blob starts with its own type name; a line whose two disagree is corrupt.
    if (keyTypeOf(key) !== keyType) return;
    entries.push({ file, line: index + 1, hosts, keyType, key, ...(marker ? { marker } : {}) });
  });
  return entries;
};

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export const hostKeyName = (host: string, port = 22): string =>
  port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` writes it. */
export const hashHostName = (name: string, salt: Buffer = randomBytes(20)): string =>
  `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;

// Every connection matches its host against every line: at 1,000 nodes that is a million matches, so
// each pattern is compiled once.
const compiled = new Map<string, RegExp>();
const globToRegExp = (pattern: string): RegExp => {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(
      `^${pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
        .join('')}$`,
      'i',
    );
    compiled.set(pattern, re);
  }
  return re;
};

/** Does this entry's host field cover `name` (as produced by hostKeyName)? */
export const entryMatchesHost = (entry: Pick<KnownHostsEntry, 'hosts'>, name: string): boolean => {
  if (entry.hosts.startsWith('|1|')) {
    const [, , salt, hash] = entry.hosts.split('|');
    if (!salt || !hash) return false;
    return hashHostName(name, Buffer.from(salt, 'base64')) === `|1|${salt}|${hash}`;
  }
  let matched = false;
  for (const pattern of entry.hosts.split(',')) {
    if (pattern.startsWith('!')) {
      // A matching negation vetoes the whole line, whatever else matches.
      if (globToRegExp(pattern.slice(1)).test(name)) return false;
    } else if (globToRegExp(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
};

export const keyTypeOf = (blob: Buffer): string | undefined => {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
};

/** "SHA256:…", as `ssh-keygen -l` prints it, so users can compare. */
export const fingerprint = (blob: Buffer): string =>
  `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

/**
 * A revoked key is refused wherever it is listed, not only for the hosts on its line: a revoked key is
 * compromised, whichever host presents it (stricter than OpenSSH, never weaker).
 */
export const checkHostKey = (
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict => {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const name = hostKeyName(host, port);
  const forHost = entries.filter((e) => entryMatchesHost(e, name));
  const plain = forHost.filter((e) => e.marker === undefined);
  const known = plain.find((e) => e.key.equals(key));
  if (known) return { status: 'known', entry: known };
  // Another key (of any type) on record for this host: the host is not new, its identity changed.
  if (plain.length > 0) return { status: 'changed', expected: plain };
  return { status: 'unknown', certAuthorities: forHost.filter((e) => e.marker === 'cert-authority') };
};

/** Key types on record for a host, so the handshake can ask for those first (as OpenSSH does). */
export const knownKeyTypes = (entries: readonly KnownHostsEntry[], host: string, port: number): string[] => {
  const name = hostKeyName(host, port);
  return [
    ...new Set(
      entries.filter((e) => e.marker === undefined && entryMatchesHost(e, name)).map((e) => e.keyType),
    ),
  ];
};

export const formatKnownHostsLine = (
  host: string,
  port: number,
  key: Buffer,
  options: { hash?: boolean } = {},
): string => {
  const name = hostKeyName(host, port);
  return `${options.hash ? hashHostName(name) : name} ${keyTypeOf(key) ?? 'unknown'} ${key.toString('base64')}`;
};
