import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  commonSupernet,
  contains,
  isAligned,
  overlaps,
  parseCidr,
  parseIp,
  tryParseCidr,
} from '../../src/flannel/cidr.ts';

test('parses IPv4 and IPv6 CIDRs and masks host bits', () => {
  const v4 = parseCidr('10.244.1.7/16');
  assert.equal(v4.family, 'ipv4');
  assert.equal(v4.text, '10.244.0.0/16');
  assert.equal(v4.hostBitsSet, true);
  const v6 = parseCidr('FD00:0:0::/56');
  assert.equal(v6.text, 'fd00::/56');
  assert.equal(v6.hostBitsSet, false);
});

test('rejects what Go net.ParseCIDR rejects', () => {
  for (const bad of [
    '10.244.0.0',
    '10.244.0.0/33',
    '10/8',
    '010.0.0.0/8',
    '0x0a.0.0.0/8',
    'fd00::/129',
    '',
    'a/b',
  ]) {
    assert.equal(tryParseCidr(bad), undefined, bad);
  }
  assert.throws(() => parseCidr('nope'), /"nope" is not a valid CIDR/);
});

test('contains, overlaps and alignment', () => {
  const net = parseCidr('10.244.0.0/16');
  assert.equal(contains(net, parseCidr('10.244.3.0/24')), true);
  assert.equal(contains(net, parseCidr('10.245.0.0/24')), false);
  assert.equal(contains(net, parseCidr('10.0.0.0/8')), false);
  assert.equal(contains(net, parseIp('10.244.255.255')!), true);
  assert.equal(contains(net, parseCidr('fd00::/64')), false);
  assert.equal(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.244.0.0/16')), true);
  assert.equal(overlaps(parseCidr('10.244.0.0/24'), parseCidr('10.244.1.0/24')), false);
  assert.equal(isAligned(parseIp('10.244.1.0')!, 24), true);
  assert.equal(isAligned(parseIp('10.200.0.2')!, 26), false);
  assert.equal(isAligned(parseIp('fd00:0:0:1::')!, 64), true);
});

test('commonSupernet finds the smallest block holding them all', () => {
  assert.equal(
    commonSupernet([parseCidr('10.244.0.0/16'), parseCidr('10.245.1.0/24')])?.text,
    '10.244.0.0/15',
  );
  assert.equal(commonSupernet([parseCidr('10.0.0.0/8'), parseCidr('fd00::/8')]), undefined);
});
