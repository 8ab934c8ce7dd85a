// What a new user does (issue 11): `sudo flannelctl demo --lab --keep`, then `flannelctl bench` with the
// access flags the demo prints — both the real CLI over the bundle, as separate processes. bench runs
// real iperf3 and ping in pod namespaces on the demo's nodes and over their real OpenSSH, and Ctrl-C on
// the demo leaves no network namespace behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labRequirement } from '../helpers/requirements.ts';
import { LAB_FAMILY } from '../../src/lab/naming.ts';
import type { BenchResult } from '../../src/bench/result.ts';

const BIN = fileURLToPath(new URL('../../bin/flannelctl.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

const skip = labRequirement() ?? (existsSync(BUNDLE) ? false : 'needs the bundle: run `npm run build` first');

const labNamespaces = (): string[] =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(LAB_FAMILY));

test('bench from the CLI against `demo --lab --keep` measures real traffic', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-bench-demo-'));
  const before = new Set(labNamespaces());
  const demo = spawn(process.execPath, [BIN, 'demo', '--lab', '--keep', '--no-story', '--out', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
  let stdout = '';
  let stderr = '';
  demo.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  let ours: string[] = [];
  try {
    const deadline = Date.now() + 120_000;
    while (!stdout.includes('Press Ctrl-C')) {
      assert.ok(demo.exitCode === null, `the demo ended early: ${stdout}${stderr}`);
      assert.ok(Date.now() < deadline, `the demo did not come up: ${stdout}${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    ours = labNamespaces().filter((n) => !before.has(n));
    assert.ok(ours.length > 0, 'the lab demo made its network namespaces');

    // The line the demo prints for bench, run as printed (plus short settings and a file to save to).
    const line = /^ {2}flannelctl (bench .*)$/m.exec(stdout);
    assert.ok(line, `the demo prints a bench command line: ${stdout}`);
    const saved = join(dir, 'vxlan.json');
    const args = [...line[1]!.split(' '), '--mode', 'both', '-t', '2', '--repeat', '1', '--save', saved];
    const bench = spawnSync(process.execPath, [BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
      timeout: 120_000,
    });
    assert.equal(bench.status, 0, bench.stdout + bench.stderr);
    console.log(`\n$ flannelctl ${args.join(' ')}\n${bench.stdout}`);
    assert.match(bench.stdout, /^node-\d → node-\d: flannel v[\d.]+ vxlan, MTU 1450/m);
    const result = JSON.parse(readFileSync(saved, 'utf8')) as BenchResult;
    assert.equal(result.simulated, false);
    assert.deepEqual(
      result.results.map((r) => r.path),
      ['pod', 'host'],
    );
    for (const path of result.results) {
      assert.ok(path.tcp.gbps.median > 0, `${path.path}: iperf3 measured a throughput`);
      assert.ok(path.latency && path.latency.received > 0, `${path.path}: ping answered`);
    }
    assert.match(result.results[0]!.serverIP, /^10\.244\./, 'the pod path ends at a pod');

    const compare = spawnSync(process.execPath, [BIN, 'bench', 'compare', saved, saved], {
      encoding: 'utf8',
    });
    assert.equal(compare.status, 0, compare.stderr);
    assert.match(compare.stdout, /^vxlan\s+█+\s+\d+\.\d\d Gbit\/s$/m);
  } finally {
    demo.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 60_000))]);
    rmSync(dir, { recursive: true, force: true });
    assert.notEqual(code, 'timeout', 'Ctrl-C stops the demo');
  }
  const left = labNamespaces().filter((n) => ours.includes(n));
  assert.deepEqual(left, [], 'the demo deletes its network namespaces on Ctrl-C');
});
