import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { findingBuilder } from '../../src/checks/finding.ts';
import {
  cidrArg,
  comment,
  ifnameArg,
  ipArg,
  joinShell,
  kubeNameArg,
  macArg,
  quoted,
  sh,
} from '../../src/checks/shell-command.ts';

/** What a shell makes of a command line: its words, one per line (the shell is the judge, not us). */
const wordsOf = (line: string): string[] =>
  execFileSync('bash', ['-c', `set -f; printf '%s\\0' ${line}`], { encoding: 'utf8' })
    .split('\0')
    .slice(0, -1);

const HOSTILE = [
  '1.2.3.4;touch /tmp/x #',
  "it's $(id) `id` $HOME",
  'a\nrm -rf /',
  '\u001b]52;c;ZWNobyBoaQ==\u0007',
  'x!-1 *',
];

describe('shell-command', () => {
  it('quotes any value into exactly one word, which a shell reads back unchanged', () => {
    for (const value of HOSTILE) {
      const word = quoted(value).text;
      assert.ok(!word.includes('\n') && !word.includes('\u001b'), `one printable line: ${word}`);
      assert.deepEqual(wordsOf(word), [value], word);
    }
  });

  it('leaves plain words unquoted', () => {
    assert.equal(quoted('flannel.alpha.coreos.com/public-ip-').text, 'flannel.alpha.coreos.com/public-ip-');
    assert.equal(quoted('').text, "''");
  });

  it('accepts only what each part claims to be', () => {
    assert.equal(ipArg('192.168.77.13')?.text, '192.168.77.13');
    assert.equal(ipArg('fd00::1')?.text, 'fd00::1');
    assert.equal(ipArg('1.2.3.4;touch /tmp/x #'), null);
    assert.equal(ipArg('1.2.3.4 '), null);
    assert.equal(cidrArg('10.244.3.0/24')?.text, '10.244.3.0/24');
    assert.equal(cidrArg('10.244.0.0/16 -j ACCEPT; id'), null);
    assert.equal(cidrArg('10.244.0.0/33'), null);
    assert.equal(macArg('0e:fc:00:00:00:13')?.text, '0e:fc:00:00:00:13');
    assert.equal(macArg('0e:fc:00:00:00:13 dst 1.2.3.4;id'), null);
    assert.equal(kubeNameArg('node-1.example')?.text, 'node-1.example');
    assert.equal(kubeNameArg('Node_1'), null);
    // Linux allows `;` in an interface name (dev_valid_name): valid, so quoted, never raw.
    assert.equal(ifnameArg('a;b')?.text, "'a;b'");
    assert.equal(ifnameArg('eth0 x'), null);
    assert.equal(ifnameArg('sixteen-chars-xx'), null);
  });

  it('builds a command whose hostile parts stay single words', () => {
    const cmd = sh`ip route replace ${cidrArg('10.244.3.0/24')!} via ${quoted('1.2.3.4;touch /tmp/x #')}  # on ${comment('node-3\nid')}`;
    assert.equal(cmd.text, `ip route replace 10.244.3.0/24 via '1.2.3.4;touch /tmp/x #'  # on node-3\\x0aid`);
    assert.deepEqual(wordsOf(cmd.text.split('  # on ')[0]!), [
      'ip',
      'route',
      'replace',
      '10.244.3.0/24',
      'via',
      '1.2.3.4;touch /tmp/x #',
    ]);
  });

  it('refuses comment text outside a comment, and a comment before more code', () => {
    assert.throws(() => sh`ip link del ${comment('eth0')}`, /comment text outside a comment/);
    assert.throws(() => joinShell([sh`a  # x`, sh`b`], sh` && `), /comment/);
    assert.equal(joinShell([sh`a`, sh`b`], sh` && `).text, 'a && b');
  });

  it('refuses numbers that are not integers', () => {
    assert.equal(sh`mtu ${1450}`.text, 'mtu 1450');
    assert.throws(() => sh`mtu ${Number.NaN}`, /not an integer/);
  });

  it('does not type-check a plain string as a remediation or an interpolation (tsc --noEmit is the test)', () => {
    const b = findingBuilder('example');
    const hostile = '1.2.3.4;touch /tmp/x #';
    // @ts-expect-error a remediation is a Shell built by sh, never a string
    assert.throws(() => b('x', 'fail', { message: 'm', remediation: `ip route replace via ${hostile}` }));
    // @ts-expect-error a string is neither a validated part nor quoted
    assert.throws(() => sh`ip route replace via ${hostile}`, /not an integer/);
  });
});
