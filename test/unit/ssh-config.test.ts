import { test } from 'node:test';
import assert from 'node:assert/strict';
import SSHConfig from 'ssh-config';
import { parseProxyJump, resolveSshConfig } from '../../src/nodes/ssh-config.ts';

const context = { home: '/home/op', localUser: 'op' };
const config = SSHConfig.parse(`
Host node-* !node-9
  User ops
  IdentityFile ~/.ssh/cluster
  IdentityFile %d/.ssh/%r_%h
Host node-1
  HostName 10.0.0.1
  Port 2222
  ProxyJump jump@bastion:2200,second
  UserKnownHostsFile ~/.ssh/lab_known_hosts
Match exec "touch /tmp/flannelctl-should-not-exist"
  User pwned
Host *
  User fallback
  IdentityFile ~/.ssh/id_ed25519
`);

test('first value wins, identity files accumulate with ~ and % tokens expanded', () => {
  const r = resolveSshConfig(config, 'node-1', context);
  assert.equal(r.user, 'ops');
  assert.equal(r.hostName, '10.0.0.1');
  assert.equal(r.port, 2222);
  assert.deepEqual(r.identityFiles, [
    '/home/op/.ssh/cluster',
    '/home/op/.ssh/ops_10.0.0.1',
    '/home/op/.ssh/id_ed25519',
  ]);
  assert.deepEqual(r.userKnownHostsFiles, ['/home/op/.ssh/lab_known_hosts']);
  assert.deepEqual(r.proxyJump, [{ host: 'bastion', user: 'jump', port: 2200 }, { host: 'second' }]);
});

test('negated Host patterns exclude a host; Match exec is never run', () => {
  const r = resolveSshConfig(config, 'node-9', context);
  assert.equal(r.user, 'fallback');
  assert.equal(r.hostName, undefined);
  assert.deepEqual(r.identityFiles, ['/home/op/.ssh/id_ed25519']);
});

test('no config means nothing is overridden', () => {
  assert.deepEqual(resolveSshConfig(undefined, 'node-1', context), { identityFiles: [] });
});

test('ProxyJump accepts IPv6 in brackets and "none"', () => {
  assert.deepEqual(parseProxyJump('root@[fd00::1]:22'), [{ host: 'fd00::1', user: 'root', port: 22 }]);
  assert.equal(parseProxyJump('none'), undefined);
  assert.throws(() => parseProxyJump('a b'), /not \[user@\]host\[:port\]/);
});

test('a bad Port is a usage error naming the host', () => {
  const bad = SSHConfig.parse('Host x\n  Port 99999\n');
  assert.throws(() => resolveSshConfig(bad, 'x', context), /Port "99999" for x/);
});
