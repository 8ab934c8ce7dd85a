// Flag-named files: inputs must be regular files, outputs are never written through a planted symlink.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { checkOutputPath, readRegularFile, writeOutputFile } from '../../src/files.ts';

const dir = mkdtempSync(join(tmpdir(), 'flannelctl-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const usage = (pattern: RegExp) => (error: unknown) => {
  assert.ok(error instanceof UsageError, String(error));
  assert.match(error.message, pattern);
  return true;
};

test('an input flag refuses a FIFO, a device and a directory at once instead of hanging', () => {
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  assert.throws(
    () => readRegularFile(fifo, '--kubeconfig'),
    usage(/--kubeconfig .*fifo: a FIFO, expected a regular file/),
  );
  assert.throws(
    () => readRegularFile('/dev/zero', '--inventory'),
    usage(/--inventory \/dev\/zero: a device/),
  );
  assert.throws(() => readRegularFile(dir, '--backup-file'), usage(/a directory, expected a regular file/));
  assert.throws(
    () => readRegularFile(join(dir, 'none'), '--inventory'),
    usage(/cannot read it: no such file/),
  );
  const file = join(dir, 'ok.yaml');
  writeFileSync(file, 'x: 1\n');
  assert.equal(readRegularFile(file, '--inventory'), 'x: 1\n');
});

test('an output file is never written through a symlink, and only into a regular file', () => {
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  const link = join(dir, 'report.xml');
  symlinkSync(victim, link);
  assert.throws(
    () => checkOutputPath(link, '--junit-file'),
    usage(/a symbolic link, expected a regular file/),
  );
  assert.throws(() => writeOutputFile(link, 'evil', '--junit-file'), usage(/symbolic link/));
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the link target is untouched');

  assert.throws(() => checkOutputPath('/dev/null', '--save'), usage(/a device/));
  assert.throws(
    () => checkOutputPath(join(dir, 'missing', 'x.json'), '--save'),
    usage(/directory .* does not exist/),
  );
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  assert.throws(() => checkOutputPath(sub, '--topology'), usage(/a directory/));

  const out = join(dir, 'out.json');
  writeFileSync(out, 'a much longer old content\n');
  checkOutputPath(out, '--save');
  writeOutputFile(out, 'new\n', '--save');
  assert.equal(readFileSync(out, 'utf8'), 'new\n', 'an existing regular file is replaced');
});

test('migrate --backup-file refuses a FIFO or a device instead of hanging on it', async () => {
  const { readBackupFile } = await import('../../src/migrate/backup.ts');
  const fifo = join(dir, 'backup-fifo');
  execFileSync('mkfifo', [fifo]);
  assert.throws(
    () => readBackupFile(fifo),
    usage(/--backup-file .*backup-fifo: a FIFO, expected a regular file/),
  );
  assert.throws(() => readBackupFile('/dev/zero'), usage(/--backup-file \/dev\/zero: a device/));
});
