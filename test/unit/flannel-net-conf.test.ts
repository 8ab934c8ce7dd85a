import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backendType,
  isKnownBackend,
  parseNetConf,
  serializeNetConf,
  withBackend,
} from '../../src/flannel/net-conf.ts';
import { expectedFlannelMtu } from '../../src/flannel/mtu.ts';

test('keys match case-insensitively and serialize in canonical spelling and upstream order', () => {
  const conf = parseNetConf(
    '{"backend": {"vni": 4096, "TYPE": "VXLAN", "directrouting": true}, "enablenftables": true, "network": "10.244.0.0/16", "subnetlen": 24}',
  );
  assert.equal(conf.Network, '10.244.0.0/16');
  assert.equal(conf.SubnetLen, 24);
  assert.deepEqual(conf.Backend, { Type: 'vxlan', VNI: 4096, DirectRouting: true });
  assert.equal(
    serializeNetConf(conf),
    `{
  "Network": "10.244.0.0/16",
  "SubnetLen": 24,
  "EnableNFTables": true,
  "Backend": {
    "Type": "vxlan",
    "VNI": 4096,
    "DirectRouting": true
  }
}
`,
  );
});

test('unknown keys survive a round trip, at the top level and in Backend', () => {
  const text =
    '{"Network":"10.244.0.0/16","Comment":"lab",' +
    '"Backend":{"Type":"host-gw","Note":{"a":[1,2]}},"x-owner":"ops"}';
  const conf = parseNetConf(text);
  assert.deepEqual(conf.extra, { Comment: 'lab', 'x-owner': 'ops' });
  assert.deepEqual(conf.Backend.extra, { Note: { a: [1, 2] } });
  const again = parseNetConf(serializeNetConf(conf));
  assert.deepEqual(again, conf);
  assert.deepEqual(JSON.parse(serializeNetConf(conf)), {
    Network: '10.244.0.0/16',
    Backend: { Type: 'host-gw', Note: { a: [1, 2] } },
    Comment: 'lab',
    'x-owner': 'ops',
  });
});

test('the last of two differently cased keys wins, as in Go', () => {
  assert.equal(parseNetConf('{"Network":"10.1.0.0/16","NETWORK":"10.2.0.0/16"}').Network, '10.2.0.0/16');
});

test('a missing Backend is effectively udp, remembered, and written explicitly', () => {
  const conf = parseNetConf('{"Network":"10.244.0.0/16"}');
  assert.equal(backendType(conf), 'udp');
  assert.equal(conf.backendOmitted, true);
  assert.deepEqual(JSON.parse(serializeNetConf(conf)).Backend, { Type: 'udp' });
});

test('Backend {} and Backend null have the empty type flanneld rejects', () => {
  assert.equal(backendType(parseNetConf('{"Backend":{}}')), '');
  assert.equal(backendType(parseNetConf('{"Backend":null}')), '');
  assert.equal(parseNetConf('{"Backend":{}}').backendOmitted, undefined);
});

test('unknown backend types keep their options as extra', () => {
  const conf = parseNetConf('{"Backend":{"Type":"geneve","VNI":5}}');
  assert.equal(isKnownBackend(conf.Backend), false);
  assert.deepEqual(conf.Backend, { Type: 'geneve', extra: { VNI: 5 } });
  assert.deepEqual(JSON.parse(serializeNetConf(conf)).Backend, { Type: 'geneve', VNI: 5 });
});

test('withBackend replaces the backend and makes it explicit', () => {
  const conf = parseNetConf('{"Network":"10.244.0.0/16","EnableNFTables":false}');
  const next = withBackend(conf, { Type: 'host-gw' });
  assert.equal(next.backendOmitted, undefined);
  assert.equal(
    serializeNetConf(next),
    '{\n  "Network": "10.244.0.0/16",\n  "EnableNFTables": false,\n  "Backend": {\n    "Type": "host-gw"\n  }\n}\n',
  );
  assert.equal(conf.Backend.Type, 'udp', 'the input is not changed');
});

test('invalid JSON names the source, line and column', () => {
  assert.throws(() => parseNetConf('{\n  "Network": "10.244.0.0/16",\n}', 'kube-flannel-cfg net-conf.json'), {
    name: 'UsageError',
    message: /^kube-flannel-cfg net-conf\.json: invalid JSON at line 3, column 1: /,
  });
  assert.throws(() => parseNetConf('{"Network":'), {
    message: /^net-conf\.json: invalid JSON at line 1, column 12: Unexpected end of JSON input$/,
  });
});

test('top-level values of the wrong type are refused like flanneld refuses them', () => {
  assert.throws(() => parseNetConf('{"SubnetLen":"24"}'), {
    name: 'UsageError',
    message: 'net-conf.json: SubnetLen must be a non-negative integer, got "24"',
  });
  assert.throws(() => parseNetConf('{"EnableIPv6":"true"}'), {
    message: 'net-conf.json: EnableIPv6 must be true or false, got "true"',
  });
  assert.throws(() => parseNetConf('{"Network":10}'), {
    message: 'net-conf.json: Network must be a string, got 10',
  });
  assert.throws(() => parseNetConf('{"Backend":"vxlan"}'), {
    message: 'net-conf.json: Backend must be an object such as {"Type": "host-gw"}, got string "vxlan"',
  });
  assert.throws(() => parseNetConf('{"Backend":{"Type":1}}'), {
    message: 'net-conf.json: Backend.Type must be a string, got 1',
  });
  assert.throws(() => parseNetConf('[]'), { message: 'net-conf.json: expected a JSON object, got an array' });
});

test('null values are ignored, as Go leaves the field unset', () => {
  const conf = parseNetConf('{"Network":"10.244.0.0/16","SubnetLen":null,"Backend":{"Type":"host-gw"}}');
  assert.equal('SubnetLen' in conf, false);
});

test('FLANNEL_MTU per backend', () => {
  const table: Array<[Parameters<typeof expectedFlannelMtu>[0], number, number | undefined]> = [
    [{ Type: 'host-gw' }, 1500, 1500],
    [{ Type: 'vxlan' }, 1500, 1450],
    [{ Type: 'vxlan', MTU: 9000 }, 1500, 8950],
    [{ Type: 'vxlan', MTU: 0 }, 9001, 8951],
    [{ Type: 'wireguard' }, 1500, 1420],
    [{ Type: 'wireguard', MTU: 1400 }, 1500, 1320],
    [{ Type: 'udp' }, 1500, 1472],
    [{ Type: 'ipip' }, 1500, 1480],
    [{ Type: 'ipsec' }, 1500, 1423],
    [{ Type: 'ipsec', UDPEncap: true }, 1500, 1415],
    [{ Type: 'alloc' }, 1500, 1500],
    [{ Type: 'geneve' }, 1500, undefined],
  ];
  for (const [backend, link, expected] of table) {
    assert.equal(expectedFlannelMtu(backend, link), expected, JSON.stringify(backend));
  }
});

test('JSON syntax errors point at the offending character', () => {
  const table: Array<[string, string]> = [
    ['{"Network": }', 'line 1, column 13'],
    ['{\n  "Network": "10.244.0.0/16"\n  "Backend": {}\n}', 'line 3, column 3'],
    ["{'Network': 1}", 'line 1, column 2'],
    ['{"Network": "10.244.0.0/16", "Backend": {"Type": "host-gw"}}}', 'line 1, column 61'],
    ['{"EnableIPv6": tru}', 'line 1, column 19'],
    ['{"Network": "10.244', 'line 1, column 20'],
  ];
  for (const [text, where] of table) {
    assert.throws(() => parseNetConf(text), { message: new RegExp(`invalid JSON at ${where}: `) }, text);
  }
});
