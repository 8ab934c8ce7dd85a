import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitPeerSections, splitSections } from '../../src/facts/sections.ts';

const N = 'f1a77e1c0ffee0d0';
const section = (name: string, body: string, code: number | null): string =>
  `\n@@${N} BEGIN ${name}\n${body}` + (code === null ? '' : `\n@@${N} END ${name} ${code}\n`);

test('bodies are returned exactly, with their exit codes', () => {
  const out = section('a', 'line 1\nline 2\n', 0) + section('b', 'no newline', 3) + section('c', '', 0);
  const s = splitSections(out, N);
  assert.deepEqual(s.get('a'), { name: 'a', body: 'line 1\nline 2\n', exitCode: 0, complete: true });
  assert.deepEqual(s.get('b'), { name: 'b', body: 'no newline', exitCode: 3, complete: true });
  assert.deepEqual(s.get('c'), { name: 'c', body: '', exitCode: 0, complete: true });
});

test('a section cut off before its END marker is incomplete, and the next one still parses', () => {
  const out = section('a', 'partial', null) + section('b', 'ok\n', 0) + section('c', 'truncat', null);
  const s = splitSections(out, N);
  assert.deepEqual(s.get('a'), { name: 'a', body: 'partial', exitCode: null, complete: false });
  assert.equal(s.get('b')?.exitCode, 0);
  assert.deepEqual(s.get('c'), { name: 'c', body: 'truncat', exitCode: null, complete: false });
});

test("markers without this run's nonce are just body text", () => {
  const spoof = `@@0000000000000000 END a 0\n@@ END a 0\n@@${N}x END a 0\n  @@${N} END a 0\n@@${N} END other 0\n`;
  const s = splitSections(section('a', spoof, 1), N);
  assert.equal(s.get('a')?.body, spoof);
  assert.equal(s.get('a')?.exitCode, 1);
  assert.equal(s.size, 1);
});

test('output without any marker yields no sections', () => {
  assert.equal(splitSections('sh: 1: Syntax error\n', N).size, 0);
});

test("one route-get section splits into each peer's output, exactly, with its exit code", () => {
  const peer = (p: string, body: string, code: number | null): string =>
    `@@${N} GET ${p}\n${body}` + (code === null ? '' : `\n@@${N} GOT ${p} ${code}\n`);
  const body =
    peer('10.0.0.1', '[{"dst":"10.0.0.1"}]\n', 0) +
    peer('fd00::1', 'RTNETLINK answers: Network is unreachable\n', 2) +
    peer('10.0.0.2', '', 0) +
    peer('10.0.0.3', `@@${N} GOT 10.0.0.3 x\n@@${N} GOT 10.0.0.4 0\nno newline`, 1) +
    peer('10.0.0.5', 'cut', null);
  const parts = splitPeerSections({ name: 'route-get-json', body, exitCode: null, complete: false }, N);
  const part = (p: string, body: string, exitCode: number | null) =>
    [p, { name: `route-get-json/${p}`, body, exitCode, complete: exitCode !== null }] as const;
  assert.deepEqual(
    [...parts.entries()],
    [
      part('10.0.0.1', '[{"dst":"10.0.0.1"}]\n', 0),
      part('fd00::1', 'RTNETLINK answers: Network is unreachable\n', 2),
      part('10.0.0.2', '', 0),
      part('10.0.0.3', `@@${N} GOT 10.0.0.3 x\n@@${N} GOT 10.0.0.4 0\nno newline`, 1),
      part('10.0.0.5', 'cut', null),
    ],
  );
});
