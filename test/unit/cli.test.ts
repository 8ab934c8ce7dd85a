import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.ts';
import { parseDuration } from '../../src/duration.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

test('--version prints the flannelctl version and the flannel version it renders', async () => {
  const r = await runCli(['--version']);
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    new RegExp(`^flannelctl ${pkg.version.replace(/\./g, '\\.')} \\(renders flannel v0\\.28\\.9`),
  );
});

test('--help lists the global flags', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const flag of [
    '--kubeconfig',
    '--context',
    '--namespace',
    '--output',
    '--yes',
    '--timeout',
    '--no-color',
  ]) {
    assert.ok(r.stdout.includes(flag), `help mentions ${flag}`);
  }
});

test('an unknown flag is a usage error with exit code 2', async () => {
  const r = await runCli(['--frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
});

test('durations parse like kubectl and bad ones are usage errors', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('2'), 2000);
  assert.throws(() => parseDuration('soon'), /--timeout "soon" is not a duration/);
});
