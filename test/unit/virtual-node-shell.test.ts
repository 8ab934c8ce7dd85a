// The script interpreter: the one-line commands scripts send, and dash's answer to anything else.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { createVirtualNode } from '../../src/sim/virtual-node/create-node.ts';
import { recogniseProbe, runScript } from '../../src/sim/virtual-node/shell.ts';

const NONCE = '0123456789abcdef0123456789abcdef';
const node = () =>
  createVirtualNode({ name: 'node-1', address: '192.168.77.11', podCIDR: '10.244.1.0/24', backend: 'vxlan' });

test('ip route replace/add/del and route get, with iproute2 messages and exit codes', () => {
  const n = node();
  assert.deepEqual(runScript(n, 'ip route replace 10.244.2.0/24 via 192.168.77.12 dev eth0\n'), {
    stdout: '',
    stderr: '',
    code: 0,
  });
  assert.equal(
    runScript(n, 'ip route get 10.244.2.3').stdout,
    '10.244.2.3 via 192.168.77.12 dev eth0 src 192.168.77.11 uid 0 \n    cache \n',
  );
  assert.equal(
    runScript(n, 'ip -j route get 192.168.77.12').stdout,
    '[{"dst":"192.168.77.12","dev":"eth0","prefsrc":"192.168.77.11","flags":[],"uid":0,"cache":[]}]\n',
  );
  assert.deepEqual(runScript(n, 'ip route add 10.244.3.0/24 via 192.168.78.13 dev eth0'), {
    stdout: '',
    stderr: 'Error: Nexthop has invalid gateway.\n',
    code: 2,
  });
  assert.equal(runScript(n, 'ip route add 10.244.3.0/24 via 10.244.3.0 dev flannel.1 onlink').code, 0);
  assert.match(
    runScript(n, 'ip route show').stdout,
    /^10\.244\.3\.0\/24 via 10\.244\.3\.0 dev flannel\.1 onlink $/m,
  );
  assert.equal(runScript(n, 'ip route del 10.244.3.0/24').code, 0);
  assert.deepEqual(runScript(n, 'ip route del 10.244.3.0/24').stderr, 'RTNETLINK answers: No such process\n');
});

test('ip link del / set mtu, ip neigh, bridge fdb, sysctl -w and cat mutate and read the model', () => {
  const n = node();
  const script = [
    'ip neigh replace 10.244.2.0 lladdr 0e:00:00:00:00:12 dev flannel.1 nud permanent',
    'bridge fdb append 0e:00:00:00:00:12 dev flannel.1 dst 192.168.77.12',
    'sysctl -w net.ipv4.conf.flannel/1.rp_filter=2',
    'ip link set eth0 mtu 9000',
    'ip neigh show',
    'bridge fdb show dev flannel.1',
    'cat /run/flannel/subnet.env',
    '',
  ].join('\n');
  const r = runScript(n, script);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    'net.ipv4.conf.flannel/1.rp_filter = 2\n' +
      '10.244.2.0 dev flannel.1 lladdr 0e:00:00:00:00:12 PERMANENT \n' +
      '0e:00:00:00:00:12 dst 192.168.77.12 self permanent\n' +
      'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n',
  );
  assert.equal(n.sysctls.get('net/ipv4/conf/flannel.1/rp_filter'), '2');
  assert.equal(n.link('eth0')?.mtu, 9000);
  assert.equal(runScript(n, 'ip link del flannel.1').code, 0);
  assert.deepEqual(runScript(n, 'bridge fdb show dev flannel.1'), {
    stdout: '',
    stderr: 'Cannot find device "flannel.1"\n',
    code: 1,
  });
  assert.deepEqual(
    runScript(n, 'ip neigh del 10.244.2.0 dev eth0').stderr,
    'RTNETLINK answers: No such file or directory\n',
  );
  assert.deepEqual(runScript(n, 'cat /etc/nope'), {
    stdout: '',
    stderr: 'cat: /etc/nope: No such file or directory\n',
    code: 1,
  });
  assert.equal(runScript(n, 'sysctl -w net.ipv4.nope=1').code, 255);
});

test('unknown commands fail like dash; exit ends the script with its status', () => {
  const n = node();
  assert.deepEqual(runScript(n, 'true\nsystemctl restart flanneld\n'), {
    stdout: '',
    stderr: 'sh: 2: systemctl: not found\n',
    code: 127,
  });
  assert.deepEqual(runScript(n, 'hostname\nexit 3\nhostname\n'), { stdout: 'node-1\n', stderr: '', code: 3 });
  // No shell syntax: `;` is not a separator, so this is one (invalid) ip command.
  assert.equal(runScript(n, 'ip link set eth0 mtu 1400; reboot').code, 255);
  assert.equal(n.link('eth0')?.mtu, 1500);
});

test('only the exact probe script is recognised; its options are recovered', () => {
  const options = { nonce: NONCE, peers: ['192.168.77.12', 'fd00::2'], interfaces: ['flannel.1', 'vxlan0'] };
  const script = buildProbeScript(options);
  assert.deepEqual(recogniseProbe(script), {
    ...options,
    subnetEnvPath: '/run/flannel/subnet.env',
    cniConfDir: '/etc/cni/net.d',
  });
  assert.equal(recogniseProbe(script.replace('s uid id -u', 's uid rm -rf /')), undefined);
});

test('the probe answer has every section, the fdb only for devices that exist, and parses cleanly', () => {
  const n = node();
  n.nftTables = ['inet filter'];
  const script = buildProbeScript({
    nonce: NONCE,
    peers: ['192.168.77.12'],
    interfaces: ['flannel.1', 'vxlan0'],
  });
  const r = runScript(n, script);
  assert.equal(r.code, 0);
  const names = [...r.stdout.matchAll(new RegExp(`^@@${NONCE} BEGIN (\\S+)$`, 'gm'))].map((m) => m[1]);
  assert.ok(names.includes('fdb-json/flannel.1') && !names.includes('fdb-json/vxlan0'));
  assert.equal(names.at(-1), 'uid');
  const facts = parseProbeOutput('node-1', r.stdout, NONCE);
  assert.deepEqual(facts.errors, []);
  assert.equal(facts.links?.find((l) => l.name === 'flannel.1')?.vxlan?.port, 8472);
  assert.deepEqual(facts.nftTables, ['inet filter']);
  assert.equal(facts.sysctls?.routeMaxSize, 'missing');
  n.iptablesVersion = null;
  assert.equal(parseProbeOutput('node-1', runScript(n, script).stdout, NONCE).iptables, 'not-installed');
});
