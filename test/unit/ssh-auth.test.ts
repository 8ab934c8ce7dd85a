import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../../src/nodes/ssh-auth.ts';
import { Pool } from '../../src/nodes/pool.ts';
import { UsageError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'flannelctl-auth-'));
const encryptedKey = join(dir, 'id_rsa_encrypted');
writeFileSync(
  encryptedKey,
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'sesame' },
  }).privateKey,
);

test('an encrypted key is decrypted with FLANNELCTL_SSH_PASSPHRASE', async () => {
  const store = new KeyStore({ env: { FLANNELCTL_SSH_PASSPHRASE: 'sesame' }, agentSocket: false });
  const methods = await store.methods('root', [{ file: encryptedKey, required: true }]);
  assert.deepEqual(
    methods.map((m) => m.type),
    ['publickey'],
  );
});

test('the passphrase callback is asked once per key file', async () => {
  const asked: string[] = [];
  const store = new KeyStore({
    env: {},
    agentSocket: false,
    passphrase: async (file) => {
      asked.push(file);
      return 'sesame';
    },
  });
  await store.methods('root', [{ file: encryptedKey, required: true }]);
  await store.methods('admin', [{ file: encryptedKey, required: true }]);
  assert.deepEqual(asked, [encryptedKey]);
});

test('a missing or wrong passphrase is a usage error naming the key', async () => {
  await assert.rejects(
    new KeyStore({ env: {}, agentSocket: false }).load(encryptedKey, true),
    (e: UsageError) => e instanceof UsageError && /is encrypted and no passphrase was given/.test(e.message),
  );
  await assert.rejects(
    new KeyStore({ env: { FLANNELCTL_SSH_PASSPHRASE: 'wrong' }, agentSocket: false }).load(
      encryptedKey,
      true,
    ),
    /cannot decrypt identity file .*id_rsa_encrypted/,
  );
});

test('a missing default key is skipped; a missing explicit key is an error', async () => {
  const store = new KeyStore({ env: {}, agentSocket: false });
  assert.equal(await store.load(join(dir, 'nope'), false), undefined);
  await assert.rejects(store.load(join(dir, 'nope2'), true), /cannot read identity file/);
});

test('the agent is offered first when its socket exists', async () => {
  const store = new KeyStore({ env: { SSH_AUTH_SOCK: dir, FLANNELCTL_SSH_PASSPHRASE: 'sesame' } });
  const methods = await store.methods('root', [{ file: encryptedKey, required: true }]);
  assert.deepEqual(
    methods.map((m) => m.type),
    ['agent', 'publickey'],
  );
});

test('the pool never runs more than its size at once, and an abort while waiting skips the work', async () => {
  const pool = new Pool(2);
  let running = 0;
  let peak = 0;
  const release: Array<() => void> = [];
  const work = () =>
    pool.use(async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => release.push(r));
      running--;
    });
  const jobs = [work(), work(), work()];
  await new Promise((r) => setImmediate(r));
  assert.equal(running, 2);
  const controller = new AbortController();
  let ran = false;
  const aborted = pool.use(async () => {
    ran = true;
  }, controller.signal);
  controller.abort();
  await assert.rejects(aborted, { name: 'InterruptedError' });
  while (release.length) {
    release.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(jobs);
  assert.equal(peak, 2);
  assert.equal(ran, false);
});
