// Builds a real node in a network namespace, runs the probe script in it and checks that the facts
// match what was configured; then proves the script is POSIX by running it under every shell present.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { effectiveRpFilter } from '../../src/facts/parse/sysctl.ts';
import { newProbeNonce } from '../../src/facts/probe-input.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { splitSections } from '../../src/facts/sections.ts';
import { labRequirement } from '../helpers/requirements.ts';

const skip = labRequirement();
const id = `fcf-${randomBytes(3).toString('hex')}-`;
const node = `${id}node`;
const peer = `${id}peer`;
let dir = '';

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};
const probe = (shell: readonly string[], peers: string[]) => {
  const nonce = newProbeNonce();
  const script = buildProbeScript({ nonce, peers, subnetEnvPath: join(dir, 'subnet.env'), cniConfDir: dir });
  const res = spawnSync('ip', ['netns', 'exec', node, ...shell, '-s'], { input: script, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return { nonce, stdout: res.stdout };
};

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'fcf-probe-'));
  writeFileSync(
    join(dir, 'subnet.env'),
    'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1400\nFLANNEL_IPMASQ=false\n',
  );
  ip('netns', 'add', node);
  ip('netns', 'add', peer);
  ip(
    'link',
    'add',
    'eth0',
    'netns',
    node,
    'mtu',
    '1400',
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    peer,
  );
  ip('link', 'add', 'eth1', 'netns', node, 'type', 'veth', 'peer', 'name', 'eth1', 'netns', peer);
  ip('-n', node, 'addr', 'add', '192.168.77.11/24', 'dev', 'eth0');
  ip('-n', node, 'addr', 'add', '10.10.0.11/24', 'dev', 'eth1');
  ip('-n', peer, 'link', 'set', 'eth0', 'mtu', '1400', 'up');
  for (const dev of ['lo', 'eth0', 'eth1']) ip('-n', node, 'link', 'set', dev, 'up');
  ip('-n', node, 'route', 'add', '10.244.2.0/24', 'via', '192.168.77.12', 'dev', 'eth0');
  ip('-n', node, 'route', 'add', 'default', 'via', '10.10.0.1', 'dev', 'eth1');
  execFileSync('ip', [
    'netns',
    'exec',
    node,
    'sh',
    '-c',
    'echo 1 > /proc/sys/net/ipv4/conf/eth1/rp_filter; echo 2 > /proc/sys/net/ipv4/conf/all/rp_filter',
  ]);
});

after(() => {
  if (skip) return;
  spawnSync('ip', ['netns', 'del', node]);
  spawnSync('ip', ['netns', 'del', peer]);
  rmSync(dir, { recursive: true, force: true });
});

test('the probe reports the routes, rp_filter, MTU and subnet.env that were configured', { skip }, () => {
  const { nonce, stdout } = probe(['sh'], ['192.168.77.12', '172.31.0.9']);
  const f = parseProbeOutput('node-1', stdout, nonce);
  assert.deepEqual(f.errors, []);
  assert.equal(f.sources.routes, 'json');
  const r = f.routes?.find((x) => x.dst === '10.244.2.0/24');
  assert.deepEqual([r?.gateway, r?.dev, r?.flags], ['192.168.77.12', 'eth0', []]);
  assert.equal(f.routes?.find((x) => x.dst === 'default')?.gateway, '10.10.0.1');
  assert.equal(f.links?.find((l) => l.name === 'eth0')?.mtu, 1400);
  assert.equal(f.links?.find((l) => l.name === 'eth0')?.kind, 'veth');
  assert.equal(f.addresses?.find((a) => a.ifname === 'eth1' && a.family === 'inet')?.local, '10.10.0.11');
  const rp = f.sysctls?.rpFilter;
  assert.ok(rp);
  assert.equal(rp.all, 2);
  assert.equal(rp.interfaces.eth1, 1);
  assert.equal(effectiveRpFilter(rp, 'eth1'), 2);
  assert.ok(f.subnetEnv && f.subnetEnv !== 'missing');
  assert.equal(f.subnetEnv.mtu, 1400);
  assert.equal(f.subnetEnv.ipMasq, false);
  // flannel's L2 test: the on-link peer has one route without gateway; the other goes via the default.
  const onLink = f.routeGets['192.168.77.12'];
  assert.ok(onLink?.ok);
  assert.deepEqual([onLink.more, onLink.gateway, onLink.dev], [null, null, 'eth0']);
  const routed = f.routeGets['172.31.0.9'];
  assert.ok(routed?.ok);
  assert.equal(routed.gateway, '10.10.0.1');
  assert.equal(f.uid, 0);
});

test('the script is POSIX: dash, bash and BusyBox sh print the same sections', { skip }, () => {
  const shells = [['dash'], ['bash', '--posix'], ['busybox', 'sh']].filter(
    ([bin]) => spawnSync(bin as string, ['-c', 'true']).status === 0,
  );
  assert.ok(shells.length >= 2, 'need at least dash and bash');
  const runs = shells.map((shell) => {
    const { nonce, stdout } = probe(shell, ['192.168.77.12']);
    const sections = splitSections(stdout, nonce);
    const summary = [...sections.values()].map((s) => `${s.name}:${s.complete}:${s.exitCode}`);
    const facts = parseProbeOutput('node-1', stdout, nonce);
    return { shell: shell.join(' '), summary, routes: facts.routes, rp: facts.sysctls?.rpFilter };
  });
  const [first, ...rest] = runs;
  assert.ok(first);
  assert.ok(first.summary.length > 20);
  for (const run of rest) {
    assert.deepEqual(run.summary, first.summary, `${run.shell} vs ${first.shell}`);
    assert.deepEqual(run.routes, first.routes, run.shell);
    assert.deepEqual(run.rp, first.rp, run.shell);
  }
});
