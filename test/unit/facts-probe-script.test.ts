import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.ts';
import { buildProbeScript, DEFAULT_SUBNET_ENV_PATH } from '../../src/facts/probe-script.ts';
import { isInterfaceName, isIpLiteral, newProbeNonce } from '../../src/facts/probe-input.ts';
import { parseProbeOutput } from '../../src/facts/probe-output.ts';

const nonce = '0123456789abcdef0123456789abcdef';

test('the script has one route get per distinct peer and reads the default subnet.env', () => {
  const script = buildProbeScript({ nonce, peers: ['192.168.77.12', '192.168.77.12', 'fd00::12'] });
  assert.match(script, /^s \$G g 192\.168\.77\.12 fd00::12$/m);
  assert.equal(script.match(/192\.168\.77\.12/g)?.length, 1);
  assert.doesNotMatch(buildProbeScript({ nonce, peers: [] }), /route get 127/);
  assert.ok(script.includes(`c '${DEFAULT_SUBNET_ENV_PATH}'`));
  assert.match(script, /bridge -j fdb show dev flannel\.1/);
  assert.match(script, new RegExp(`^N=${nonce}$`, 'm'));
});

test('the IPv6 VXLAN device flannel-v6.1 is looked at only when a peer is IPv6', () => {
  const v4 = buildProbeScript({ nonce, peers: ['192.168.77.12'] });
  assert.doesNotMatch(v4, /flannel-v6/);
  const dual = buildProbeScript({ nonce, peers: ['192.168.77.12', 'fd00:77::12'] });
  assert.match(dual, /^if ip link show dev flannel-v6\.1 .*bridge -j fdb show dev flannel-v6\.1;/m);
  assert.match(dual, /bridge -j fdb show dev flannel\.1;/);
});

test('peers that are not plain IP literals are rejected before any script exists', () => {
  const bad = [
    '192.168.77.12; reboot',
    '$(id)',
    '`id`',
    '-h',
    '192.168.77.12\nreboot',
    '127.1',
    '0x7f.0.0.1',
    '010.1.1.1',
    'fe80::1%eth0',
    '[::1]',
    '10.0.0.0/24',
    'node-1',
    '',
  ];
  for (const peer of bad) {
    assert.equal(isIpLiteral(peer), false, peer);
    assert.throws(() => buildProbeScript({ nonce, peers: [peer] }), UsageError, JSON.stringify(peer));
  }
});

test('interface names follow the kernel grammar without a leading dash', () => {
  for (const ok of ['flannel.1', 'eth0', 'vlan.100', 'br-int_0', 'veth1@if5'])
    assert.equal(isInterfaceName(ok), true, ok);
  for (const bad of ['-flannel', 'eth0;id', 'a b', 'x'.repeat(16), "eth0'", '$(id)', '', '..', 'a/b']) {
    assert.throws(
      () => buildProbeScript({ nonce, peers: [], interfaces: [bad] }),
      UsageError,
      JSON.stringify(bad),
    );
  }
});

test('the nonce and paths are validated too', () => {
  for (const bad of ['short', 'ABCDEF0123456789', '0123456789abcdef; id', '0123456789abcdeg']) {
    assert.throws(() => buildProbeScript({ nonce: bad, peers: [] }), UsageError, bad);
  }
  for (const bad of ["/tmp/x'; id; '", 'relative/subnet.env', '/tmp/../etc/shadow', '/tmp/a b']) {
    assert.throws(() => buildProbeScript({ nonce, peers: [], subnetEnvPath: bad }), UsageError, bad);
  }
  assert.match(newProbeNonce(), /^[0-9a-f]{32}$/);
  assert.notEqual(newProbeNonce(), newProbeNonce());
});

test('the script parses as POSIX sh under every shell installed', (t) => {
  const script = buildProbeScript({
    nonce,
    peers: ['192.168.77.12'],
    interfaces: ['flannel.1', 'flannel.4096'],
  });
  const shells = [['dash'], ['bash', '--posix'], ['busybox', 'sh']].filter(
    ([bin]) => spawnSync(bin as string, ['-c', 'true']).status === 0,
  );
  if (shells.length === 0) t.skip('no dash, bash or busybox installed');
  for (const [bin, ...args] of shells) {
    const res = spawnSync(bin as string, [...args, '-n'], { input: script, encoding: 'utf8' });
    assert.equal(res.status, 0, `${bin}: ${res.stderr}`);
  }
});

test('route get runs once per peer, as JSON with iproute2 and as text with BusyBox ip', (t) => {
  const script = buildProbeScript({ nonce, peers: ['127.0.0.2'] });
  const probe = (env: NodeJS.ProcessEnv) => {
    const res = spawnSync('sh', ['-s'], { input: script, encoding: 'utf8', env });
    return { stdout: res.stdout, facts: parseProbeOutput('node-1', res.stdout, nonce) };
  };
  if (spawnSync('ip', ['-j', 'route', 'get', '127.0.0.2']).stdout?.toString().startsWith('[')) {
    const { stdout, facts } = probe(process.env);
    assert.doesNotMatch(stdout, /route-get-text/);
    const r = facts.routeGets['127.0.0.2'];
    assert.ok(r?.ok && r.source === 'json' && r.dev === 'lo', JSON.stringify(r));
  } else t.diagnostic('no iproute2 with JSON route get here');
  if (spawnSync('busybox', ['ip', 'route', 'get', '127.0.0.2']).status === 0) {
    // BusyBox's ip applet first on PATH, as on a BusyBox node.
    const dir = mkdtempSync(join(tmpdir(), 'flannelctl-busybox-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    symlinkSync(
      spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim(),
      join(dir, 'ip'),
    );
    const { stdout, facts } = probe({ ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` });
    assert.doesNotMatch(stdout, /route-get-json/);
    const r = facts.routeGets['127.0.0.2'];
    assert.ok(r?.ok && r.source === 'text' && r.dev === 'lo', JSON.stringify(r));
  } else t.diagnostic('no busybox ip here');
});
