// Regenerates the recorded fixtures under fixtures/probe, fixtures/ping and fixtures/iperf3 (root only):
// builds throwaway network namespaces in small realistic Flannel states, runs the real probe script in
// them, and saves the raw output with its golden parse. Usage:
//   node --import tsx scripts/record-probe-fixtures.ts [--only CASE,...]
// --only records just those probe cases (e.g. dual-stack-host-gw) and skips ping and iperf3, so adding
// a case does not re-record the others.
// Namespace names carry a per-run prefix (fcf-<random>-); it is replaced by fcf-RUN- in saved output so
// re-recording gives a stable diff. Traffic only flows between the namespaces created here.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProbeOutput } from '../src/facts/node-facts.ts';
import { parsePing } from '../src/facts/parse/ping.ts';
import { parseIperf3Json } from '../src/facts/parse/iperf3.ts';
import { parseIpVersion } from '../src/facts/parse/ip-version.ts';
import { buildProbeScript } from '../src/facts/probe-script.ts';
import { FIXTURE_NONCE } from '../test/helpers/probe-fixtures.ts';

const ROOT = join(import.meta.dirname, '..', 'fixtures');
const prefix = `fcf-${randomBytes(3).toString('hex')}-`;
const namespaces: string[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'fcf-record-'));

const run = (cmd: string, args: readonly string[], input?: string): string =>
  execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
const ip = (...args: string[]): string => run('ip', args);
const inNs = (ns: string, cmd: string, ...args: string[]): string =>
  run('ip', ['netns', 'exec', ns, cmd, ...args]);
const setSysctl = (ns: string, path: string, value: string): void => {
  // Constant paths and values only; written inside the namespace.
  inNs(ns, 'sh', '-c', `echo ${value} > /proc/sys/${path}`);
};

const netns = (name: string): string => {
  const ns = `${prefix}${name}`;
  ip('netns', 'add', ns);
  namespaces.push(ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  // Stable IPv6 link-local state: no duplicate address detection (no 'tentative' flags in fixtures).
  setSysctl(ns, 'net/ipv6/conf/default/accept_dad', '0');
  setSysctl(ns, 'net/ipv6/conf/all/accept_dad', '0');
  return ns;
};

/** A veth named `inside` in ns (with a fixed MAC) whose peer is enslaved to bridge `br` in `switchNs`. */
const plug = (ns: string, inside: string, mac: string, switchNs: string, br: string, tag: string): void => {
  const outer = `${prefix.slice(4, 10)}${tag}`;
  ip('link', 'add', outer, 'netns', switchNs, 'type', 'veth', 'peer', 'name', inside, 'netns', ns);
  ip('-n', ns, 'link', 'set', inside, 'address', mac, 'up');
  ip('-n', switchNs, 'link', 'set', outer, 'master', br, 'up');
};

const switchNamespace = (name: string): string => {
  const ns = netns(name);
  ip('-n', ns, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', ns, 'link', 'set', 'br0', 'up');
  return ns;
};

/** cni0 with 10.244.N.1/24 (and fd00:10:244:N::1/64 under dual stack) and one pod, as the bridge CNI plugin leaves a node. */
const podNetwork = (ns: string, n: number, mtu: number, node: string, dualStack = false): void => {
  ip(
    '-n',
    ns,
    'link',
    'add',
    'cni0',
    'address',
    `0a:58:0a:f4:0${n}:01`,
    'mtu',
    String(mtu),
    'type',
    'bridge',
  );
  // brd as the bridge plugin sets it (plugins/main/bridge/bridge.go: ensureAddr with the subnet's broadcast).
  ip('-n', ns, 'addr', 'add', `10.244.${n}.1/24`, 'brd', `10.244.${n}.255`, 'dev', 'cni0');
  ip('-n', ns, 'link', 'set', 'cni0', 'up');
  const pod = netns(`${node}-pod`);
  ip(
    'link',
    'add',
    'vethpod1',
    'netns',
    ns,
    'mtu',
    String(mtu),
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    pod,
  );
  ip('-n', ns, 'link', 'set', 'vethpod1', 'address', `0a:fc:0${n}:00:00:02`, 'master', 'cni0', 'up');
  ip('-n', pod, 'link', 'set', 'eth0', 'address', `0a:58:0a:f4:0${n}:02`, 'mtu', String(mtu), 'up');
  ip('-n', pod, 'addr', 'add', `10.244.${n}.2/24`, 'dev', 'eth0');
  ip('-n', pod, 'route', 'add', 'default', 'via', `10.244.${n}.1`);
  if (dualStack) {
    ip('-n', ns, 'addr', 'add', `fd00:10:244:${n}::1/64`, 'dev', 'cni0');
    ip('-n', pod, 'addr', 'add', `fd00:10:244:${n}::2/64`, 'dev', 'eth0');
    ip('-n', pod, '-6', 'route', 'add', 'default', 'via', `fd00:10:244:${n}::1`);
  }
};

/** Another pod on the node's cni0, as the bridge plugin adds one: a veth at `mtu` enslaved to cni0. */
const addPod = (ns: string, n: number, host: number, mtu: number, node: string): void => {
  const pod = netns(`${node}-pod${host}`);
  const veth = `vethpod${host}`;
  ip(
    'link',
    'add',
    veth,
    'netns',
    ns,
    'mtu',
    String(mtu),
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    pod,
  );
  ip('-n', ns, 'link', 'set', veth, 'address', `0a:fc:0${n}:00:00:0${host}`, 'master', 'cni0', 'up');
  ip('-n', pod, 'link', 'set', 'eth0', 'address', `0a:58:0a:f4:0${n}:0${host}`, 'up');
  ip('-n', pod, 'addr', 'add', `10.244.${n}.${host}/24`, 'dev', 'eth0');
  ip('-n', pod, 'route', 'add', 'default', 'via', `10.244.${n}.1`);
};

const files = (name: string, subnetEnv: string | undefined, cni: string[] | undefined) => {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'cni'), { recursive: true });
  if (subnetEnv !== undefined) writeFileSync(join(dir, 'subnet.env'), subnetEnv);
  for (const f of cni ?? []) writeFileSync(join(dir, 'cni', f), '{}\n');
  return {
    subnetEnvPath: join(dir, 'subnet.env'),
    cniConfDir: cni === undefined ? join(dir, 'no-cni') : join(dir, 'cni'),
  };
};

const subnetEnv = (mtu: number) =>
  `FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=${mtu}\nFLANNEL_IPMASQ=true\n`;

const PEERS = ['192.168.77.12', '192.168.77.13', '192.168.78.14', '2001:db8::14'];

/** subnet.env of a dual-stack node (EnableIPv6, IPv6Network fd00:10:244::/56), as WriteSubnetFile orders it. */
const dualStackSubnetEnv = (mtu: number) =>
  `FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_IPV6_NETWORK=fd00:10:244::/56\nFLANNEL_IPV6_SUBNET=fd00:10:244:1::1/64\nFLANNEL_MTU=${mtu}\nFLANNEL_IPMASQ=true\n`;

/** Dual-stack peers: each node's public-ip and public-ipv6; .14 / fd00:78::14 sit behind the router. */
const DUAL_STACK_PEERS = [
  '192.168.77.12',
  'fd00:77::12',
  '192.168.77.13',
  'fd00:77::13',
  '192.168.78.14',
  'fd00:78::14',
];

interface Case {
  readonly name: string;
  readonly node: string;
  readonly paths: { subnetEnvPath: string; cniConfDir: string };
  /** Directory with an `ip` that shadows iproute2 (BusyBox case). */
  readonly pathPrefix?: string;
  readonly peers?: readonly string[];
}

const hostGwNode = (sw: string, name: string, tag: string): string => {
  const ns = netns(name);
  plug(ns, 'eth0', '02:fc:77:00:00:11', sw, 'br0', tag);
  ip('-n', ns, 'addr', 'add', '192.168.77.11/24', 'dev', 'eth0');
  ip('-n', ns, 'route', 'add', 'default', 'via', '192.168.77.1', 'dev', 'eth0');
  setSysctl(ns, 'net/ipv4/ip_forward', '1');
  return ns;
};

/** hostGwNode with fd00:77::11/64 on eth0 and an IPv6 default route via fd00:77::1 (dual stack). */
const dualStackNode = (sw: string, name: string, tag: string): string => {
  const ns = hostGwNode(sw, name, tag);
  ip('-n', ns, 'addr', 'add', 'fd00:77::11/64', 'dev', 'eth0');
  ip('-n', ns, '-6', 'route', 'add', 'default', 'via', 'fd00:77::1', 'dev', 'eth0');
  setSysctl(ns, 'net/ipv6/conf/all/forwarding', '1');
  return ns;
};

/**
 * A flannel VXLAN device as flanneld creates it (netlink LinkAdd with MTU ext-50, VNI 1, port 8472,
 * nolearning) on eth0. Over an IPv6 underlay the kernel clamps 1450 to 1430 (70 bytes of headroom).
 */
const vxlanDevice = (ns: string, name: string, mac: string, local: string): void => {
  ip(
    '-n',
    ns,
    'link',
    'add',
    name,
    'address',
    mac,
    'mtu',
    '1450',
    'type',
    'vxlan',
    'id',
    '1',
    'local',
    local,
    'dev',
    'eth0',
    'dstport',
    '8472',
    'nolearning',
  );
  ip('-n', ns, 'link', 'set', name, 'up');
};

const setUp = (sw: string, sw2: string): Case[] => {
  const cases: Case[] = [];

  // host-gw: what flanneld's host-gw backend programs (routes via peer node IPs on eth0).
  const hg = hostGwNode(sw, 'hostgw', 'a');
  podNetwork(hg, 1, 1500, 'hostgw');
  ip('-n', hg, 'route', 'add', '10.244.2.0/24', 'via', '192.168.77.12', 'dev', 'eth0');
  ip('-n', hg, 'route', 'add', '10.244.3.0/24', 'via', '192.168.77.13', 'dev', 'eth0');
  cases.push({
    name: 'host-gw',
    node: hg,
    paths: files('host-gw', subnetEnv(1500), ['10-flannel.conflist']),
  });

  // vxlan: flannel.1, onlink routes via the peers' VTEP addresses, permanent neighbours and FDB entries.
  const vx = hostGwNode(sw, 'vxlan', 'b');
  podNetwork(vx, 1, 1450, 'vxlan');
  ip(
    '-n',
    vx,
    'link',
    'add',
    'flannel.1',
    'address',
    '0e:fc:00:00:00:11',
    'type',
    'vxlan',
    'id',
    '1',
    'local',
    '192.168.77.11',
    'dev',
    'eth0',
    'dstport',
    '8472',
    'nolearning',
  );
  ip('-n', vx, 'link', 'set', 'flannel.1', 'mtu', '1450', 'up');
  ip('-n', vx, 'addr', 'add', '10.244.1.0/32', 'dev', 'flannel.1');
  for (const n of [2, 3]) {
    const mac = `0e:fc:00:00:00:1${n}`;
    ip('-n', vx, 'route', 'add', `10.244.${n}.0/24`, 'via', `10.244.${n}.0`, 'dev', 'flannel.1', 'onlink');
    ip('-n', vx, 'neigh', 'replace', `10.244.${n}.0`, 'lladdr', mac, 'dev', 'flannel.1', 'nud', 'permanent');
    run('bridge', ['-n', vx, 'fdb', 'append', mac, 'dev', 'flannel.1', 'dst', `192.168.77.1${n}`]);
  }
  cases.push({ name: 'vxlan', node: vx, paths: files('vxlan', subnetEnv(1450), ['10-flannel.conflist']) });

  // After a vxlan -> host-gw switch: FLANNEL_MTU 1500, cni0 created at 1450 with a pod from then
  // (veth 1450) and one started since (1500). The kernel keeps cni0 at the minimum of its ports
  // (br_mtu_auto_adjust, net/bridge/br_if.c), so cni0 stays 1450 although created and fed by 1500.
  const st = hostGwNode(sw, 'stale', 'e');
  podNetwork(st, 1, 1450, 'stale');
  addPod(st, 1, 3, 1500, 'stale');
  ip('-n', st, 'route', 'add', '10.244.2.0/24', 'via', '192.168.77.12', 'dev', 'eth0');
  cases.push({
    name: 'stale-pod-mtu',
    node: st,
    paths: files('stale', subnetEnv(1500), ['10-flannel.conflist']),
  });

  // Multi-NIC host-gw node with strict rp_filter on its second NIC, FORWARD policy DROP, a route with
  // an MTU, no subnet.env (flanneld never ran) and no CNI config directory.
  const rp = hostGwNode(sw, 'rpfilter', 'c');
  plug(rp, 'eth1', '02:fc:10:00:00:11', sw2, 'br0', 'd');
  ip('-n', rp, 'addr', 'add', '10.10.0.11/24', 'dev', 'eth1');
  ip('-n', rp, 'route', 'add', '10.244.2.0/24', 'via', '192.168.77.12', 'dev', 'eth0', 'mtu', '1400');
  setSysctl(rp, 'net/ipv4/conf/all/rp_filter', '0');
  setSysctl(rp, 'net/ipv4/conf/eth0/rp_filter', '2');
  setSysctl(rp, 'net/ipv4/conf/eth1/rp_filter', '1');
  if (spawnSync('iptables', ['-V']).status === 0) inNs(rp, 'iptables', '-P', 'FORWARD', 'DROP');
  cases.push({ name: 'rp-filter-multi-nic', node: rp, paths: files('rp', undefined, undefined) });

  // Dual-stack host-gw: flanneld's v4 routes plus `{Dst: IPv6Subnet, Gw: PublicIPv6, LinkIndex: eth0}`
  // (pkg/backend/hostgw/hostgw.go GetV6Route), an IPv6 default route via the router.
  const dh = dualStackNode(sw, 'dualhostgw', 'e');
  podNetwork(dh, 1, 1500, 'dualhostgw', true);
  for (const n of [2, 3]) {
    ip('-n', dh, 'route', 'add', `10.244.${n}.0/24`, 'via', `192.168.77.1${n}`, 'dev', 'eth0');
    ip('-n', dh, '-6', 'route', 'add', `fd00:10:244:${n}::/64`, 'via', `fd00:77::1${n}`, 'dev', 'eth0');
  }
  cases.push({
    name: 'dual-stack-host-gw',
    node: dh,
    paths: files('dual-host-gw', dualStackSubnetEnv(1500), ['10-flannel.conflist']),
    peers: DUAL_STACK_PEERS,
  });

  // Dual-stack vxlan: flannel.1 as above plus flannel-v6.1 (local = public IPv6), onlink routes via the
  // peers' IPv6 subnet addresses, permanent neighbours and fdb entries to their public IPv6
  // (pkg/backend/vxlan/vxlan_network.go handleSubnetEvents, EnableIPv6 branch).
  const dv = dualStackNode(sw, 'dualvxlan', 'f');
  podNetwork(dv, 1, 1450, 'dualvxlan', true);
  vxlanDevice(dv, 'flannel.1', '0e:fc:00:00:00:11', '192.168.77.11');
  vxlanDevice(dv, 'flannel-v6.1', '0e:fc:00:00:06:11', 'fd00:77::11');
  ip('-n', dv, 'addr', 'add', '10.244.1.0/32', 'dev', 'flannel.1');
  ip('-n', dv, '-6', 'addr', 'add', 'fd00:10:244:1::/128', 'dev', 'flannel-v6.1');
  for (const n of [2, 3]) {
    const mac = `0e:fc:00:00:00:1${n}`;
    const mac6 = `0e:fc:00:00:06:1${n}`;
    ip('-n', dv, 'route', 'add', `10.244.${n}.0/24`, 'via', `10.244.${n}.0`, 'dev', 'flannel.1', 'onlink');
    ip('-n', dv, 'neigh', 'replace', `10.244.${n}.0`, 'lladdr', mac, 'dev', 'flannel.1', 'nud', 'permanent');
    run('bridge', ['-n', dv, 'fdb', 'append', mac, 'dev', 'flannel.1', 'dst', `192.168.77.1${n}`]);
    const gw6 = `fd00:10:244:${n}::`;
    ip('-n', dv, '-6', 'route', 'add', `${gw6}/64`, 'via', gw6, 'dev', 'flannel-v6.1', 'onlink');
    ip('-n', dv, '-6', 'neigh', 'replace', gw6, 'lladdr', mac6, 'dev', 'flannel-v6.1', 'nud', 'permanent');
    run('bridge', ['-n', dv, 'fdb', 'append', mac6, 'dev', 'flannel-v6.1', 'dst', `fd00:77::1${n}`]);
  }
  cases.push({
    name: 'dual-stack-vxlan',
    node: dv,
    paths: files('dual-vxlan', dualStackSubnetEnv(1450), ['10-flannel.conflist']),
    peers: DUAL_STACK_PEERS,
  });

  // BusyBox: the same host-gw state probed with BusyBox's `ip` applet first on PATH (no -j, no -d).
  if (spawnSync('busybox', ['true']).status === 0) {
    const bin = join(tmp, 'busybox-bin');
    mkdirSync(bin, { recursive: true });
    run('ln', ['-sf', run('sh', ['-c', 'command -v busybox']).trim(), join(bin, 'ip')]);
    cases.push({
      name: 'host-gw',
      node: hg,
      paths: files('bb', subnetEnv(1500), ['10-flannel.conflist']),
      pathPrefix: bin,
    });
  }
  return cases;
};

const probe = (c: Case): string => {
  const script = buildProbeScript({ nonce: FIXTURE_NONCE, peers: c.peers ?? PEERS, ...c.paths });
  const env = c.pathPrefix ? `PATH=${c.pathPrefix}:$PATH; export PATH; ` : '';
  // Own UTS namespace so the fixture's hostname is the node's, not this machine's.
  const out = run(
    'ip',
    ['netns', 'exec', c.node, 'unshare', '--uts', 'sh', '-c', `hostname fcf-node-1 && ${env}exec sh -s`],
    script,
  );
  return out.replaceAll(prefix, 'fcf-RUN-').replaceAll(tmp, '/tmp/fcf-record');
};

const save = (dir: string, name: string, raw: string, parsed: unknown, ext = 'txt'): void => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.${ext}`), raw);
  writeFileSync(join(dir, `${name}.expected.json`), `${JSON.stringify(parsed, null, 2)}\n`);
  console.log(`wrote ${join(dir, name)}.{${ext},expected.json}`);
};

const only = ((i) => (i === -1 ? undefined : (process.argv[i + 1] ?? '').split(',')))(
  process.argv.indexOf('--only'),
);

const recordProbes = (): void => {
  const sw = switchNamespace('switch');
  const sw2 = switchNamespace('switch2');
  for (const c of setUp(sw, sw2)) {
    if (only && !only.includes(c.name)) continue;
    const raw = probe(c);
    const facts = parseProbeOutput('node-1', raw, FIXTURE_NONCE, { address: '192.168.77.11' });
    const v = facts.ipVersion;
    const dir =
      v?.implementation === 'busybox' ? `busybox-${v.version}` : `iproute2-${v?.version ?? v?.snapshot}`;
    save(join(ROOT, 'probe', dir), c.name, raw, facts);
  }
};

/** pinger -- router -- target, the router's second leg at MTU 1400, for DF probes that fail on the path. */
const recordPingAndIperf = async (): Promise<void> => {
  const a = netns('pinga');
  const r = netns('router');
  const b = netns('pingb');
  ip('link', 'add', 'eth0', 'netns', a, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', r);
  ip('link', 'add', 'eth1', 'netns', r, 'mtu', '1400', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
  ip('-n', b, 'link', 'set', 'eth0', 'mtu', '1400');
  for (const [ns, dev, addr] of [
    [a, 'eth0', '10.77.1.2/24'],
    [r, 'eth0', '10.77.1.1/24'],
    [r, 'eth1', '10.77.2.1/24'],
    [b, 'eth0', '10.77.2.2/24'],
  ] as const) {
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  ip('-n', a, 'route', 'add', 'default', 'via', '10.77.1.1');
  ip('-n', b, 'route', 'add', 'default', 'via', '10.77.2.1');
  setSysctl(r, 'net/ipv4/ip_forward', '1');

  const ping = (args: string[], bin = 'ping'): string => {
    const res = spawnSync(
      'ip',
      ['netns', 'exec', a, ...(bin === 'busybox' ? ['busybox', 'ping'] : ['ping']), ...args],
      { encoding: 'utf8' },
    );
    return `${res.stdout}${res.stderr}`;
  };
  if (spawnSync('ping', ['-V']).status === 0) {
    const version = /iputils[- ]?(\S+)/.exec(run('ping', ['-V']))?.[1] ?? 'unknown';
    const dir = join(ROOT, 'ping', `iputils-${version}`);
    const cases: Record<string, string[]> = {
      ok: ['-c', '3', '-i', '0.2', '10.77.2.2'],
      'df-pass': ['-c', '2', '-i', '0.2', '-M', 'do', '-s', '1372', '10.77.2.2'],
      'df-frag-needed': ['-c', '2', '-i', '0.2', '-M', 'do', '-s', '1373', '10.77.2.2'],
      'df-message-too-long': ['-c', '2', '-i', '0.2', '-M', 'do', '-s', '1473', '10.77.2.2'],
      'no-reply': ['-c', '2', '-i', '0.2', '-W', '1', '10.77.2.99'],
    };
    for (const [name, args] of Object.entries(cases)) {
      const out = ping(args);
      save(dir, name, out, parsePing(out));
    }
  }
  if (spawnSync('busybox', ['true']).status === 0) {
    const version = /BusyBox v(\S+)/.exec(run('busybox', []))?.[1] ?? 'unknown';
    const out = ping(['-c', '3', '10.77.2.2'], 'busybox');
    save(join(ROOT, 'ping', `busybox-${version.replace(/\s.*/, '')}`), 'ok', out, parsePing(out));
  }
  if (spawnSync('iperf3', ['-v']).status === 0) {
    const version = /iperf (\S+)/.exec(run('iperf3', ['-v']))?.[1] ?? 'unknown';
    const dir = join(ROOT, 'iperf3', version);
    const cases: Record<string, string[]> = {
      tcp: ['-t', '1'],
      'tcp-reverse-parallel': ['-t', '1', '-R', '-P', '2'],
      udp: ['-t', '1', '-u', '-b', '50M'],
    };
    for (const [name, args] of Object.entries(cases)) {
      const server = spawn('ip', ['netns', 'exec', b, 'iperf3', '-s', '-1', '-p', '5201'], {
        stdio: 'ignore',
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const out = inNs(a, 'iperf3', '-c', '10.77.2.2', '-p', '5201', '-J', ...args);
      await new Promise((resolve) => server.once('exit', resolve));
      save(dir, name, out, parseIperf3Json(out), 'json');
    }
    const refused = spawnSync(
      'ip',
      ['netns', 'exec', a, 'iperf3', '-c', '10.77.2.2', '-p', '5299', '-J', '-t', '1'],
      { encoding: 'utf8' },
    );
    save(dir, 'error-refused', refused.stdout, parseIperf3Json(refused.stdout), 'json');
  }
};

const main = async (): Promise<void> => {
  if (process.getuid?.() !== 0) throw new Error('recording fixtures needs root (network namespaces)');
  console.log(`iproute2: ${parseIpVersion(run('ip', ['-V']))?.raw}`);
  try {
    recordProbes();
    if (!only) await recordPingAndIperf();
  } finally {
    for (const ns of namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(tmp, { recursive: true, force: true });
  }
};

await main();
