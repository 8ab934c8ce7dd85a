// cni0's MTU on the real kernel with pods added by the real bridge CNI plugin, as after a vxlan ->
// host-gw switch: an old pod at 1450 and a new one at 1500 on one node whose FLANNEL_MTU is 1500.
// The probe runs in the node's namespace and the mtu check judges it: cni0 at 1450 is expected
// (net/bridge/br_if.c br_mtu_auto_adjust takes the smallest port) and names the old pod, it rises by
// itself when that pod goes, and a cni0 pinned with `ip link set cni0 mtu 1500` is flagged.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mtuCheck } from '../../src/checks/mtu.ts';
import type { ClusterFacts } from '../../src/facts/cluster-facts.ts';
import { parseProbeOutput } from '../../src/facts/node-facts.ts';
import { newProbeNonce } from '../../src/facts/probe-input.ts';
import { buildProbeScript } from '../../src/facts/probe-script.ts';
import { labRequirement } from '../helpers/requirements.ts';

const CNI_BIN = ['/opt/cni/bin', '/usr/lib/cni'].find((d) => existsSync(join(d, 'bridge')));
const skip =
  labRequirement() ??
  (CNI_BIN
    ? undefined
    : process.env.FLANNELCTL_REQUIRE_LAB
      ? (() => {
          throw new Error(
            'FLANNELCTL_REQUIRE_LAB is set but no CNI bridge plugin in /opt/cni/bin or /usr/lib/cni',
          );
        })()
      : 'needs the CNI bridge plugin (apt-get install containernetworking-plugins)');
const id = `fcf-${randomBytes(3).toString('hex')}-`;
const node = `${id}node`;
const oldPod = `${id}old`;
const newPod = `${id}new`;
const uplink = `${id}up`;
let dir = '';

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });

/** What flannel's CNI plugin hands the bridge plugin (cni-plugin flannel_linux.go), at `mtu`. */
const cni = (command: 'ADD' | 'DEL', pod: string, mtu: number): void => {
  const conf = {
    cniVersion: '0.3.1',
    name: 'cbr0',
    type: 'bridge',
    bridge: 'cni0',
    mtu,
    isGateway: true,
    ipMasq: false,
    ipam: { type: 'host-local', subnet: '10.244.1.0/24', dataDir: join(dir, 'ipam') },
  };
  execFileSync('ip', ['netns', 'exec', node, join(CNI_BIN!, 'bridge')], {
    input: JSON.stringify(conf),
    env: {
      ...process.env,
      CNI_COMMAND: command,
      CNI_CONTAINERID: pod,
      CNI_NETNS: `/run/netns/${pod}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: CNI_BIN,
    },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
};

const podIp = (pod: string): string =>
  (
    JSON.parse(ip('-n', pod, '-j', 'addr', 'show', 'eth0')) as {
      addr_info: { family: string; local: string }[];
    }[]
  )[0]!.addr_info.find((a) => a.family === 'inet')!.local;

const cni0Mtu = (): number =>
  (JSON.parse(ip('-n', node, '-j', 'link', 'show', 'cni0')) as { mtu: number }[])[0]!.mtu;

/** doctor's mtu check on this node as the probe sees it now. */
const mtuFindings = () => {
  const nonce = newProbeNonce();
  const script = buildProbeScript({
    nonce,
    peers: [],
    subnetEnvPath: join(dir, 'subnet.env'),
    cniConfDir: dir,
  });
  const res = spawnSync('ip', ['netns', 'exec', node, 'sh', '-s'], { input: script, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  const facts: ClusterFacts = {
    nodes: [
      {
        name: 'node-1',
        address: '192.168.77.11',
        facts: parseProbeOutput('node-1', res.stdout, nonce, { address: '192.168.77.11' }),
        issue: null,
      },
    ],
    expectedBackend: { value: 'host-gw', source: 'flag', reason: '--backend host-gw' },
  };
  return mtuCheck.evaluate(facts).filter((f) => f.severity !== 'pass');
};

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'fcf-cni0-'));
  writeFileSync(
    join(dir, 'subnet.env'),
    'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1500\nFLANNEL_IPMASQ=true\n',
  );
  for (const ns of [node, oldPod, newPod, uplink]) ip('netns', 'add', ns);
  ip('link', 'add', 'eth0', 'netns', node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', uplink);
  ip('-n', node, 'addr', 'add', '192.168.77.11/24', 'dev', 'eth0');
  for (const dev of ['lo', 'eth0']) ip('-n', node, 'link', 'set', dev, 'up');
  // The old pod joined while FLANNEL_MTU was 1450 (vxlan): the plugin created cni0 at 1450.
  cni('ADD', oldPod, 1450);
  cni('ADD', newPod, 1500);
});

after(() => {
  if (skip) return;
  for (const ns of [node, oldPod, newPod, uplink]) spawnSync('ip', ['netns', 'del', ns]);
  rmSync(dir, { recursive: true, force: true });
});

test(
  'cni0 follows its smallest port: expected while the old pod is attached, which is named',
  { skip },
  () => {
    assert.equal(
      cni0Mtu(),
      1450,
      'the kernel keeps cni0 at the old pod veth MTU although the plugin set 1500',
    );
    const findings = mtuFindings();
    assert.deepEqual(
      findings.map((f) => f.code),
      ['mtu/pod-veth-mismatch', 'mtu/cni0-follows-old-pods'],
    );
    const old = podIp(oldPod);
    const fresh = podIp(newPod);
    for (const f of findings) {
      assert.ok(
        f.evidence.some((e) => e.includes(`pod ${old} (netns ${oldPod})`)),
        `${f.code}: ${f.evidence.join('; ')}`,
      );
      assert.ok(!f.evidence.some((e) => e.includes(fresh)), `${f.code} must not list the new pod`);
      assert.match(f.remediation ?? '', new RegExp(`grep -wF -e ${old.replaceAll('.', '\\.')} `));
      assert.doesNotMatch(f.remediation ?? '', /mtu \d/);
    }
  },
);

test(
  'what the old pod loses: UDP-sized packets above 1450 from the new pod, silently; TCP-sized ones pass',
  { skip },
  () => {
    const ping = (size: number) =>
      spawnSync(
        'ip',
        [
          'netns',
          'exec',
          newPod,
          'ping',
          '-c',
          '1',
          '-W',
          '1',
          '-M',
          'dont',
          '-s',
          String(size),
          podIp(oldPod),
        ],
        {
          encoding: 'utf8',
        },
      );
    assert.equal(ping(1400).status, 0, 'a packet within both MTUs crosses the bridge');
    const big = ping(1472);
    assert.notEqual(big.status, 0, 'a 1500-byte packet to the 1450 pod is dropped at the bridge');
    assert.doesNotMatch(big.stdout, /Frag needed/, 'and no ICMP error tells the sender');
  },
);

test('a pinned cni0 is flagged; an unpinned one rises by itself when the old pod goes', { skip }, () => {
  ip('-n', node, 'link', 'set', 'cni0', 'mtu', '1500');
  assert.deepEqual(
    mtuFindings().map((f) => f.code),
    ['mtu/pod-veth-mismatch', 'mtu/cni0-pinned'],
  );
  // A pinned bridge stays pinned (BROPT_MTU_SET_BY_USER): only a new cni0 follows its ports again.
  cni('DEL', oldPod, 1450);
  cni('DEL', newPod, 1500);
  ip('-n', node, 'link', 'del', 'cni0');
  cni('ADD', oldPod, 1450);
  cni('ADD', newPod, 1500);
  assert.equal(cni0Mtu(), 1450);
  cni('DEL', oldPod, 1450);
  assert.equal(cni0Mtu(), 1500, 'cni0 rose to its remaining port by itself');
  assert.deepEqual(mtuFindings(), []);
});
