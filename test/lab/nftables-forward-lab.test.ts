// nftables mode on the real kernel: a router namespace forwards between two pod namespaces with the
// iptables-nft FORWARD policy DROP (as Docker leaves it) and flannel's own nftables accept chain
// (pkg/trafficmngr/nftables/nftables.go: table ip flannel-ipv4, chain forward). The traffic is still
// dropped; the kernel check, on facts the real probe gathered there, fails and gives an nft command;
// running exactly that command lets the traffic through and the check passes.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { kernelCheck } from '../../src/checks/kernel.ts';
import { buildClusterFacts } from '../../src/facts/cluster-facts.ts';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { newProbeNonce } from '../../src/facts/probe-input.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { netnsRequirement } from '../helpers/requirements.ts';

const tools = ['nft', 'iptables-nft'].filter((t) => spawnSync(t, ['--version']).status !== 0);
const skip =
  netnsRequirement() ?? (tools.length ? `nftables lab test needs ${tools.join(', ')} on PATH` : undefined);
const id = `fnf${randomBytes(2).toString('hex')}`;
const [podA, router, podB] = ['a', 'r', 'b'].map((n) => `${id}-${n}`) as [string, string, string];
const NETWORK = '10.244.0.0/16';

const ip = (...args: string[]): void =>
  void execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const inNs = (ns: string, argv: string[], input?: string): string =>
  execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', ...(input ? { input } : {}) });

before(() => {
  if (skip) return;
  for (const ns of [podA, router, podB]) ip('netns', 'add', ns);
  ip('link', 'add', 'eth0', 'netns', podA, 'type', 'veth', 'peer', 'name', 'ra', 'netns', router);
  ip('link', 'add', 'eth0', 'netns', podB, 'type', 'veth', 'peer', 'name', 'rb', 'netns', router);
  for (const [ns, addr, gw] of [
    [podA, '10.244.1.2/24', '10.244.1.1'],
    [podB, '10.244.2.2/24', '10.244.2.1'],
  ] as const) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'route', 'add', 'default', 'via', gw);
  }
  ip('-n', router, 'addr', 'add', '10.244.1.1/24', 'dev', 'ra');
  ip('-n', router, 'addr', 'add', '10.244.2.1/24', 'dev', 'rb');
  for (const dev of ['lo', 'ra', 'rb']) ip('-n', router, 'link', 'set', dev, 'up');
  inNs(router, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  inNs(router, ['iptables-nft', '-P', 'FORWARD', 'DROP']);
  inNs(
    router,
    ['nft', '-f', '-'],
    `table ip flannel-ipv4 {
       chain forward {
         type filter hook forward priority filter; policy accept;
         ip saddr ${NETWORK} accept
         ip daddr ${NETWORK} accept
       }
     }\n`,
  );
});
after(() => {
  if (skip) return;
  for (const ns of [podA, router, podB]) spawnSync('ip', ['netns', 'del', ns]);
});

/** UDP from pod A to pod B through the router; true when B received a datagram. */
const forwarded = async (): Promise<boolean> => {
  const receiver = spawn(
    'ip',
    [
      'netns',
      'exec',
      podB,
      process.execPath,
      '-e',
      `const s = require('node:dgram').createSocket('udp4');
       s.on('message', () => { console.log('received'); process.exit(0); });
       s.bind(9999, () => console.log('ready'));
       setTimeout(() => { console.log('nothing'); process.exit(0); }, 2000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  receiver.stdout.setEncoding('utf8');
  await new Promise<void>((resolve) =>
    receiver.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('ready')) resolve();
    }),
  );
  inNs(podA, [
    process.execPath,
    '-e',
    `const s = require('node:dgram').createSocket('udp4');
     let n = 0; const send = () => s.send('x', 9999, '10.244.2.2', () => (++n < 3 ? send() : s.close()));
     send();`,
  ]);
  await new Promise((resolve) => receiver.on('exit', resolve));
  return out.includes('received');
};

/** The kernel check on the router, judged with net-conf.json EnableNFTables true. */
const routerFindings = () => {
  const nonce = newProbeNonce();
  const res = spawnSync('ip', ['netns', 'exec', router, 'sh', '-s'], {
    input: buildProbeScript({ nonce, peers: [] }),
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, res.stderr);
  const facts = buildClusterFacts({
    api: {
      namespace: 'kube-flannel',
      nodes: [{ metadata: { name: 'router' }, spec: { podCIDR: '10.244.1.0/24' } }],
      configMap: {
        metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' },
        data: {
          'net-conf.json': JSON.stringify({
            Network: NETWORK,
            EnableNFTables: true,
            Backend: { Type: 'host-gw' },
          }),
        },
      },
    },
    nodes: [{ name: 'router', facts: parseProbeOutput('router', res.stdout, nonce) }],
  });
  return kernelCheck.evaluate(facts).filter((f) => f.code.startsWith('kernel/forward'));
};

test(
  "flannel's nftables accepts do not override iptables' FORWARD DROP; the check's nft fix does",
  { skip },
  async () => {
    assert.equal(await forwarded(), false, 'dropped despite table ip flannel-ipv4 accepting the Network');
    const [finding, ...more] = routerFindings();
    assert.equal(more.length, 0);
    assert.equal(`${finding?.severity} ${finding?.code}`, 'fail kernel/forward-drop');
    const fix = finding!.remediation!.replace(/\s+# on router$/, '');
    assert.match(fix, /^nft insert rule ip filter FORWARD /);
    inNs(router, ['sh', '-c', fix]);
    assert.equal(await forwarded(), true, 'the remediation lets pod traffic through');
    assert.deepEqual(routerFindings(), []);
  },
);
