/* eslint-disable no-control-regex -- finding control characters is what this file is about */
// A prompt on a terminal redraws itself with cursor moves, so it writes to the real stream: the
// question it shows, which may quote a cluster value, is made printable first.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Io } from '../../src/io.ts';
import { askConfirm } from '../../src/prompts.ts';
import { terminalSafeIo } from '../../src/report/safe-output.ts';

test('a prompt quoting a hostile value shows it escaped, and still answers', async () => {
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 100, rows: 40 });
  const stdin = new PassThrough();
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  const io = terminalSafeIo({ stdout: new PassThrough(), stderr, stdin, env: {}, isTTY: true } as Io);
  const answer = askConfirm(io, 'Migrate node host-gw\x1b]52;c;Zm9v\x07 now?');
  const alive = setInterval(() => {}, 1000); // PassThrough streams do not hold the event loop
  setTimeout(() => stdin.write('y\n'), 50);
  try {
    assert.equal(await answer, true);
  } finally {
    clearInterval(alive);
  }
  const out = Buffer.concat(chunks).toString('utf8');
  assert.ok(out.includes('host-gw^[]52;c;Zm9v^G now?'), JSON.stringify(out));
  assert.doesNotMatch(out, /\x1b\]|\x07/, 'no OSC or BEL reaches the terminal');
  assert.match(out, /\x1b\[2K/, "the prompt's own redrawing is untouched");
});
