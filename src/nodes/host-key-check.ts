// Host key policy: known_hosts is the only source of trust; the two ways to weaken it are explicit options.
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { NodeAccessError, describeTarget, type NodeTarget } from './exec.ts';
import {
  checkHostKey,
  fingerprint,
  formatKnownHostsLine,
  hostKeyName,
  keyTypeOf,
  parseKnownHosts,
  type KnownHostsEntry,
} from './known-hosts.ts';

export interface HostKeyPolicy {
  /** Files read for trust, in order; new keys (acceptNew) are appended to the first. */
  readonly knownHostsFiles: readonly string[];
  /** Record keys of hosts not yet in known_hosts (OpenSSH StrictHostKeyChecking=accept-new). */
  readonly acceptNew?: boolean;
  /** Trust any key. Only for throwaway labs; callers must make the user ask for it explicitly. */
  readonly insecureSkipHostKeyCheck?: boolean;
  /** Write new entries hashed, like HashKnownHosts yes. */
  readonly hashNewEntries?: boolean;
}

// The files are read for every connection (an accept-new append must be seen by the next one), but
// parsed again only when their text changed: at 1,000 nodes that is 1,000 lines, twice per node.
const parsed = new Map<string, { readonly text: string; readonly entries: KnownHostsEntry[] }>();

const parseCached = (file: string, text: string): KnownHostsEntry[] => {
  const cached = parsed.get(file);
  if (cached?.text === text) return cached.entries;
  const entries = parseKnownHosts(text, file);
  parsed.set(file, { text, entries });
  return entries;
};

export const loadKnownHosts = async (files: readonly string[]): Promise<KnownHostsEntry[]> => {
  const all: KnownHostsEntry[] = [];
  for (const file of files) {
    try {
      all.push(...parseCached(file, await readFile(file, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return all;
};

// Accept-new from concurrent connections is serialised, and each one re-reads known_hosts first: many
// connections to one new host (several node names for one address, retries) add one line, and a
// different key that got there first makes the later one a changed key, never a second entry.
let appendChain: Promise<void> = Promise.resolve();

/** Appends the key's line unless known_hosts has an entry for the host by now; true when it appended. */
const acceptNewKey = (
  policy: HostKeyPolicy,
  file: string,
  address: string,
  port: number,
  key: Buffer,
): Promise<boolean> => {
  const next = appendChain.then(async () => {
    const entries = await loadKnownHosts(policy.knownHostsFiles);
    if (checkHostKey(entries, address, port, key).status !== 'unknown') return false;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const size = await stat(file).then(
      (s) => s.size,
      () => 0,
    );
    let prefix = '';
    if (size > 0) {
      const text = await readFile(file, 'utf8');
      if (!text.endsWith('\n')) prefix = '\n';
    }
    const line = formatKnownHostsLine(address, port, key, { hash: policy.hashNewEntries });
    await appendFile(file, `${prefix}${line}\n`, { mode: 0o600 });
    return true;
  });
  appendChain = next.then(
    () => undefined,
    () => undefined,
  );
  return next;
};

const describeKey = (key: Buffer): string => `${keyTypeOf(key) ?? 'unknown'} key ${fingerprint(key)}`;

const removeHint = (node: NodeTarget, address: string, port: number, file: string): string =>
  `if the change is expected, remove the old key with \`ssh-keygen -R ${
    port === 22 ? address : `'${hostKeyName(address, port)}'`
  } -f ${file}\` and connect again`;

/**
 * Decides whether the key the server presented may be trusted. Returns undefined when it may, or the error
 * to report (the handshake is then aborted before authentication, so nothing runs on the node).
 */
export const verifyHostKey = async (
  node: NodeTarget,
  address: string,
  port: number,
  key: Buffer,
  policy: HostKeyPolicy,
): Promise<NodeAccessError | undefined> => {
  if (policy.insecureSkipHostKeyCheck) return undefined;
  const where = describeTarget({ ...node, address, port });
  const entries = await loadKnownHosts(policy.knownHostsFiles);
  const verdict = checkHostKey(entries, address, port, key);
  const primary = policy.knownHostsFiles[0] ?? '~/.ssh/known_hosts';
  switch (verdict.status) {
    case 'known':
      return undefined;
    case 'revoked':
      return new NodeAccessError(
        'host-key-changed',
        node.name,
        `${where}: the host presented a REVOKED ${describeKey(key)} (marked @revoked at ${verdict.entry.file}:${verdict.entry.line}); refusing to connect, nothing was run on this node`,
        'the node must get a new host key; do not remove the @revoked line',
      );
    case 'changed': {
      const expected = verdict.expected.map((e) => `${describeKey(e.key)} at ${e.file}:${e.line}`).join(', ');
      return new NodeAccessError(
        'host-key-changed',
        node.name,
        `${where}: WARNING: host key has changed! The node presented ${describeKey(key)} but known_hosts has ${expected}. Someone could be intercepting the connection (man-in-the-middle), or the node was reinstalled; refusing to connect, nothing was run on this node`,
        removeHint(node, address, port, verdict.expected[0]?.file ?? primary),
      );
    }
    case 'unknown': {
      if (policy.acceptNew) {
        if (await acceptNewKey(policy, primary, address, port, key)) return undefined;
        // Someone added the host meanwhile: judge the key against that entry, as without accept-new.
        return verifyHostKey(node, address, port, key, { ...policy, acceptNew: false });
      }
      const ca = verdict.certAuthorities.length
        ? ' (host certificates are not supported; the @cert-authority lines for it were not used)'
        : '';
      return new NodeAccessError(
        'host-key-unknown',
        node.name,
        `${where}: host key is not in ${policy.knownHostsFiles.join(' or ')}${ca}; it presented ${describeKey(key)}. Refusing to connect, nothing was run on this node`,
        `check the fingerprint out of band, then add it (e.g. \`ssh-keyscan -p ${port} ${address} >> ${primary}\`) or allow accept-new for first connections`,
      );
    }
  }
};
