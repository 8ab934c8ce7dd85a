import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import {
  checkHostKey,
  entryMatchesHost,
  formatKnownHostsLine,
  hashHostName,
  hostKeyName,
  knownKeyTypes,
  parseKnownHosts,
} from '../../src/nodes/known-hosts.ts';

const sshString = (value: Buffer | string): Buffer => {
  const body = Buffer.isBuffer(value) ? value : Buffer.from(value);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
};

/** A real ed25519 public key blob, as a server would present it. */
const ed25519Blob = (): Buffer => {
  const der = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
  return Buffer.concat([sshString('ssh-ed25519'), sshString(der.subarray(der.length - 32))]);
};
const fakeBlob = (type: string): Buffer => Buffer.concat([sshString(type), sshString(Buffer.alloc(32, 7))]);
const b64 = (blob: Buffer): string => blob.toString('base64');

const keyA = ed25519Blob();
const keyB = ed25519Blob();
const rsa = fakeBlob('ssh-rsa');

test('a plain entry accepts its key and reports a different key for that host as changed', () => {
  const entries = parseKnownHosts(`192.168.77.11 ssh-ed25519 ${b64(keyA)}\n`);
  assert.equal(checkHostKey(entries, '192.168.77.11', 22, keyA).status, 'known');
  const changed = checkHostKey(entries, '192.168.77.11', 22, keyB);
  assert.equal(changed.status, 'changed');
  assert.equal(changed.status === 'changed' && changed.expected[0]?.line, 1);
  assert.equal(checkHostKey(entries, '192.168.77.12', 22, keyA).status, 'unknown');
});

test('a host known only with another key type counts as changed, not new', () => {
  const entries = parseKnownHosts(`node-1 ssh-rsa ${b64(rsa)}`);
  assert.equal(checkHostKey(entries, 'node-1', 22, keyA).status, 'changed');
  assert.deepEqual(knownKeyTypes(entries, 'node-1', 22), ['ssh-rsa']);
});

test('non-default ports only match the [host]:port form', () => {
  const entries = parseKnownHosts(`[10.0.0.5]:2222 ssh-ed25519 ${b64(keyA)}`);
  assert.equal(hostKeyName('10.0.0.5', 2222), '[10.0.0.5]:2222');
  assert.equal(checkHostKey(entries, '10.0.0.5', 2222, keyA).status, 'known');
  assert.equal(checkHostKey(entries, '10.0.0.5', 22, keyA).status, 'unknown');
});

test('hashed entries match the host they were hashed for, as ssh-keygen -H writes them', () => {
  // Vector computed with OpenSSH's algorithm: HMAC-SHA1 keyed with the salt over the host name.
  const salt = Buffer.from('0123456789abcdefghij');
  const hashed = hashHostName('192.168.77.11', salt);
  assert.match(hashed, /^\|1\|MDEyMzQ1Njc4OWFiY2RlZmdoaWo=\|[A-Za-z0-9+/]+=*$/);
  const entries = parseKnownHosts(`${hashed} ssh-ed25519 ${b64(keyA)}`);
  assert.equal(checkHostKey(entries, '192.168.77.11', 22, keyA).status, 'known');
  assert.equal(checkHostKey(entries, '192.168.77.12', 22, keyA).status, 'unknown');
  const portHashed = parseKnownHosts(formatKnownHostsLine('h', 2200, keyA, { hash: true }));
  assert.equal(checkHostKey(portHashed, 'h', 2200, keyA).status, 'known');
});

test('patterns: wildcards, comma lists, negation and case', () => {
  assert.ok(entryMatchesHost({ hosts: 'node-?,bastion' }, 'node-3'));
  assert.ok(entryMatchesHost({ hosts: '*.example.com' }, 'a.example.com'));
  assert.ok(entryMatchesHost({ hosts: 'NODE-1' }, 'node-1'));
  assert.ok(!entryMatchesHost({ hosts: '192.168.77.*,!192.168.77.13' }, '192.168.77.13'));
  assert.ok(entryMatchesHost({ hosts: '192.168.77.*,!192.168.77.13' }, '192.168.77.12'));
  assert.ok(!entryMatchesHost({ hosts: '192.168.77.1' }, '192.168.77.11'), 'no prefix matching');
  assert.ok(!entryMatchesHost({ hosts: 'a.b' }, 'axb'), 'dots are literal');
});

test('a revoked key is refused even when a plain line also lists it', () => {
  const entries = parseKnownHosts(
    [`node-1 ssh-ed25519 ${b64(keyA)}`, `@revoked * ssh-ed25519 ${b64(keyA)}`].join('\n'),
  );
  const verdict = checkHostKey(entries, 'node-1', 22, keyA);
  assert.equal(verdict.status, 'revoked');
});

test('cert-authority lines never vouch for a plain host key', () => {
  const entries = parseKnownHosts(`@cert-authority *.lab ssh-ed25519 ${b64(keyA)}`);
  const verdict = checkHostKey(entries, 'n.lab', 22, keyA);
  assert.equal(verdict.status, 'unknown');
  assert.equal(verdict.status === 'unknown' && verdict.certAuthorities.length, 1);
});

test('comments, blank, unknown-marker and corrupt lines are ignored', () => {
  const entries = parseKnownHosts(
    [
      '# comment',
      '',
      `@bogus node-1 ssh-ed25519 ${b64(keyA)}`,
      `node-1 ssh-rsa ${b64(keyA)}`, // type disagrees with the blob
      'node-1 ssh-ed25519 not-base64!',
      `  node-2 ssh-ed25519 ${b64(keyB)} comment here`,
    ].join('\n'),
  );
  assert.equal(entries.length, 1);
  assert.equal(entries[0]?.line, 6);
  assert.equal(checkHostKey(entries, 'node-1', 22, keyA).status, 'unknown');
});

test('a formatted line parses back to the same key', () => {
  const [entry] = parseKnownHosts(formatKnownHostsLine('192.168.77.11', 22, keyA));
  assert.equal(entry?.hosts, '192.168.77.11');
  assert.ok(entry?.key.equals(keyA));
});

test('accept-new under concurrency writes one line per new host; a different key racing in is a change', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { verifyHostKey } = await import('../../src/nodes/host-key-check.ts');
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-accept-new-'));
  try {
    const file = join(dir, 'known_hosts');
    const policy = { knownHostsFiles: [file], acceptNew: true };
    const node = (i: number) => ({ name: `node-${i}`, address: '192.168.77.21' });
    const same = await Promise.all(
      Array.from({ length: 20 }, (_, i) => verifyHostKey(node(i), '192.168.77.21', 22, keyA, policy)),
    );
    assert.deepEqual(same, Array(20).fill(undefined), 'every connection with the same key is accepted');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 1, readFileSync(file, 'utf8'));

    const raced = await Promise.all([
      verifyHostKey(node(1), '192.168.77.22', 22, keyA, policy),
      verifyHostKey(node(2), '192.168.77.22', 22, keyB, policy),
    ]);
    assert.equal(raced[0], undefined);
    assert.match(raced[1]?.message ?? '', /host key has changed/);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 2, 'one line for the second host');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
