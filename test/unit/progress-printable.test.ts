/* eslint-disable no-control-regex -- finding control characters is what this file is about */
// Progress rows on a terminal: listr2's animated renderer gets the real stream (it moves the cursor),
// so the titles and output lines flannelctl hands it are made printable first, subtasks included.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Io } from '../../src/io.ts';
import { runTasks } from '../../src/render/progress.ts';
import { terminalSafeIo } from '../../src/report/safe-output.ts';

const OSC52 = '\x1b]52;c;Zm9v\x07';

const terminalIo = (): { io: Io; text: () => string } => {
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 100, rows: 40 });
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  const io: Io = { stdout: new PassThrough(), stderr, stdin: new PassThrough(), env: {}, isTTY: true };
  return { io: terminalSafeIo(io), text: () => Buffer.concat(chunks).toString('utf8') };
};

test('animated progress rows: hostile titles and outputs escaped, the renderer still draws', async (t) => {
  // listr2 picks its animated renderer only when it sees a terminal; this test's stdout is not one.
  process.env.LISTR_FORCE_TTY = '1';
  t.after(() => delete process.env.LISTR_FORCE_TTY);
  const { io, text } = terminalIo();
  await runTasks(
    [
      {
        title: `node-1 annotation ${OSC52}`,
        task: (_ctx, task) =>
          task.newListr([
            {
              title: 'sub',
              task: async (_c, sub) => {
                sub.output = `log line\x1b[2J`;
                sub.title = `pod ready, backend host-gw${OSC52}`;
                await new Promise((r) => setTimeout(r, 150));
              },
            },
          ]),
      },
    ],
    io,
    { ctx: {} },
  );
  const out = text();
  assert.ok(out.includes('node-1 annotation ^[]52;c;Zm9v^G'), JSON.stringify(out));
  assert.ok(out.includes('pod ready, backend host-gw^[]52;c;Zm9v^G'), JSON.stringify(out));
  assert.doesNotMatch(out, /\x1b\]|\x07|\x1b\[2J/, 'no OSC, BEL or clear screen reaches the terminal');
  assert.match(out, /\x1b\[\?25l/, "the renderer's own cursor control is untouched");
});
