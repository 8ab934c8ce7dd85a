/* eslint-disable no-control-regex -- finding control characters is what this file is about */
// Terminal-safe text: hostile values from the cluster are shown escaped, never interpreted; JSON and
// YAML keep the exact value.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Chalk } from 'chalk';
import { parse } from 'yaml';
import { printJson } from '../../src/report/print-json.ts';
import { printYaml } from '../../src/report/print-yaml.ts';
import { printable, printableText, terminalSafe } from '../../src/report/printable.ts';
import { rawStream, terminalSafeStream } from '../../src/report/safe-output.ts';

const OSC52 = '\x1b]52;c;cm0gLXJmIH4=\x07';
const CLEAR = '\x1b[2J\x1b[H';
const C1_CSI = '\u009b2J';
// Any C0 but newline and tab, DEL, C1.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('printable', () => {
  it('shows ESC as ^[ and CR as \\r like kubectl, other C0 in caret notation, C1 as <U+XXXX>', () => {
    assert.equal(printable(`10.0.0.1${OSC52}`), '10.0.0.1^[]52;c;cm0gLXJmIH4=^G');
    assert.equal(printable(CLEAR), '^[[2J^[[H');
    assert.equal(printable('a\rb\x00c\x7fd'), 'a\\rb^@c^?d');
    assert.equal(printable(C1_CSI), '<U+009B>2J');
  });

  it('keeps a value on one line: newline and tab are escaped; printableText keeps them', () => {
    assert.equal(printable('1.2.3.4\nPASS  all good\t!'), '1.2.3.4\\nPASS  all good\\t!');
    assert.equal(printableText(`line 1\n\tline 2${OSC52}`), 'line 1\n\tline 2^[]52;c;cm0gLXJmIH4=^G');
  });

  it('leaves ordinary text, Unicode and emoji alone', () => {
    const text = 'node-1 → node-2: via 192.168.77.1 ✅ ×2 … ünïcode';
    assert.equal(printable(text), text);
  });
});

describe('terminalSafe (the output streams)', () => {
  const chalk = new Chalk({ level: 1 });
  it("keeps chalk's own colours when the stream may be coloured, escapes every other sequence", () => {
    const own = `${chalk.red.bold('FAIL')} ${chalk.dim('evidence')} ${chalk.gray('SKIP')} ${chalk.green('PASS')}`;
    assert.equal(terminalSafe(own, true), own);
    assert.equal(terminalSafe(`${own} ${OSC52}${CLEAR}`, true), `${own} ^[]52;c;cm0gLXJmIH4=^G^[[2J^[[H`);
    // Conceal (8m) and reverse (7m) could hide or disguise text: not flannelctl's.
    assert.equal(terminalSafe('\x1b[8msecret\x1b[0m', true), '^[[8msecret\x1b[0m');
    assert.equal(terminalSafe('\x1b[38;5;196mred', true), '^[[38;5;196mred');
  });

  it('escapes colours too where nothing may be coloured, and keeps newlines and tabs', () => {
    assert.equal(terminalSafe(`${chalk.red('x')}\n\ty${C1_CSI}`, false), '^[[31mx^[[39m\n\ty<U+009B>2J');
  });

  it('filters what is written through the stream, strings and buffers, and keeps the stream itself', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
    const safe = terminalSafeStream(out, {});
    safe.write(`a${OSC52}\n`);
    safe.write(Buffer.from(`b${CLEAR}\n`));
    const arrow = Buffer.from('→\n');
    safe.write(arrow.subarray(0, 1)); // a character split across two writes
    safe.write(arrow.subarray(1));
    assert.equal(chunks.join(''), 'a^[]52;c;cm0gLXJmIH4=^G\nb^[[2J^[[H\n→\n');
    assert.equal(rawStream(safe), out);
    assert.equal(terminalSafeStream(safe, {}), safe, 'wrapping twice changes nothing');
  });
});

describe('JSON and YAML keep the exact value', () => {
  const value = { annotation: `10.0.0.1${OSC52}${CLEAR}${C1_CSI}\x7f`, 'key\u009b': 'v' };
  it('-o json: every control character is a \\u escape and parses back to the value', () => {
    const text = printJson(value);
    assert.doesNotMatch(text.trimEnd().replace(/\n/g, ''), CONTROL);
    assert.deepEqual(JSON.parse(text), value);
    assert.match(text, /\\u001b\]52;c;cm0gLXJmIH4=\\u0007\\u001b\[2J\\u001b\[H\\u009b2J\\u007f/);
  });

  it('-o yaml: the same, in double-quoted scalars', () => {
    const text = printYaml(value);
    assert.doesNotMatch(text.replace(/\n/g, ''), CONTROL);
    assert.deepEqual(parse(text), value);
  });
});
