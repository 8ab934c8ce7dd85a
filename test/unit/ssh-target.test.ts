import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTarget, validateNodeTarget } from '../../src/nodes/exec.ts';
import { UsageError } from '../../src/errors.ts';

test('ordinary node names, IPs and host names are accepted', () => {
  for (const t of [
    { name: 'node-1', address: '192.168.77.11' },
    { name: 'ip-10-0-0-1.ec2.internal', address: 'ip-10-0-0-1.ec2.internal', port: 2222, user: 'ubuntu' },
    { name: 'n', address: 'fd00::12' },
  ]) {
    assert.equal(validateNodeTarget(t), t);
  }
});

test('names and addresses that could smuggle options or shell syntax are refused', () => {
  const bad = [
    { name: 'node-1; rm -rf /', address: '192.168.77.11' },
    { name: 'Node_1', address: '192.168.77.11' },
    { name: '-oProxyCommand=x', address: '192.168.77.11' },
    { name: 'node-1', address: '-oProxyCommand=touch /tmp/x' },
    { name: 'node-1', address: '192.168.77.11 ; id' },
    { name: 'node-1', address: '$(id)' },
    { name: 'node-1', address: '0x7f.1' },
    { name: 'node-1', address: '999.1.1.1' },
    { name: 'node-1', address: '' },
    { name: 'node-1', address: 'a\nb' },
    { name: 'node-1', address: '10.0.0.1', port: 0 },
    { name: 'node-1', address: '10.0.0.1', port: 70000 },
    { name: 'node-1', address: '10.0.0.1', user: 'root;id' },
  ];
  for (const t of bad) {
    assert.throws(() => validateNodeTarget(t), UsageError, JSON.stringify(t));
  }
});

test('messages name a node with its address and port', () => {
  assert.equal(describeTarget({ name: 'node-2', address: '192.168.77.12' }), 'node-2 (192.168.77.12:22)');
  assert.equal(describeTarget({ name: 'n', address: 'fd00::1', port: 2200 }), 'n ([fd00::1]:2200)');
});
