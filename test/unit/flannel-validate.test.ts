import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetConf } from '../../src/flannel/net-conf.ts';
import {
  validateNetConf,
  type NodePodCidrs,
  type ValidateNetConfOptions,
} from '../../src/flannel/validate-net-conf.ts';
import { formatProblem, hasErrors } from '../../src/flannel/problem.ts';

type Expected = readonly [severity: 'error' | 'warning', field: string, message: string, fix?: RegExp];
interface Case {
  name: string;
  conf: Record<string, unknown>;
  options?: ValidateNetConfOptions;
  expect: readonly Expected[];
}

const HOST_GW = { Type: 'host-gw' };
const net = (extra: Record<string, unknown>): Record<string, unknown> => ({
  Network: '10.244.0.0/16',
  Backend: HOST_GW,
  ...extra,
});
const TYPES = 'vxlan, host-gw, udp, ipip, ipsec, wireguard, alloc, extension, tencent-vpc';
const node = (name: string, ...podCIDRs: string[]): NodePodCidrs => ({ name, podCIDRs });
// flanneld without --kube-subnet-mgr: CheckNetworkConfig enforces SubnetLen/Min/Max (kube mode: test/unit/subnet-config.test.ts).
const ETCD: ValidateNetConfOptions = { subnetManager: 'etcd' };

const cases: Case[] = [
  { name: 'the upstream default is clean', conf: net({ EnableNFTables: false }), expect: [] },
  {
    name: 'a dual-stack config is clean',
    conf: net({ EnableIPv6: true, IPv6Network: 'fd00:10:244::/56' }),
    options: {
      nodes: [
        node('a', '10.244.0.0/24', 'fd00:10:244::/64'),
        node('b', '10.244.1.0/24', 'fd00:10:244:1::/64'),
      ],
    },
    expect: [],
  },
  {
    name: 'Network that is not a CIDR',
    conf: net({ Network: '10.244.0.0' }),
    expect: [
      [
        'error',
        'net-conf.json: Network',
        'Network "10.244.0.0" is not a valid IPv4 CIDR (flanneld: invalid IPv4 CIDR format)',
        /"10\.244\.0\.0\/16"/,
      ],
    ],
  },
  {
    name: 'Network with leading zeros (Go rejects them)',
    conf: net({ Network: '10.244.00.0/16' }),
    expect: [
      [
        'error',
        'net-conf.json: Network',
        'Network "10.244.00.0/16" is not a valid IPv4 CIDR (flanneld: invalid IPv4 CIDR format)',
      ],
    ],
  },
  {
    name: 'IPv6 CIDR in Network',
    conf: net({ Network: 'fd00::/64' }),
    expect: [
      ['error', 'net-conf.json: Network', 'Network "fd00::/64" is an IPv6 CIDR, not IPv4', /IPv6Network/],
    ],
  },
  {
    name: 'IPv4 CIDR in IPv6Network',
    conf: net({ EnableIPv6: true, IPv6Network: '10.0.0.0/8' }),
    expect: [
      [
        'error',
        'net-conf.json: IPv6Network',
        'IPv6Network "10.0.0.0/8" is an IPv4 CIDR, not IPv6',
        /Network/,
      ],
    ],
  },
  {
    name: 'Network with host bits set',
    conf: net({ Network: '10.244.1.0/16' }),
    expect: [
      [
        'warning',
        'net-conf.json: Network',
        'Network "10.244.1.0/16" has host bits set; flanneld silently uses 10.244.0.0/16',
        /^write "10\.244\.0\.0\/16"$/,
      ],
    ],
  },
  {
    name: 'IPv6Network with host bits set',
    conf: net({ EnableIPv6: true, IPv6Network: 'fd00::1/64' }),
    expect: [
      [
        'warning',
        'net-conf.json: IPv6Network',
        'IPv6Network "fd00::1/64" has host bits set; flanneld silently uses fd00::/64',
      ],
    ],
  },
  {
    name: 'etcd mode: Network too small',
    conf: net({ Network: '10.244.0.0/29' }),
    options: ETCD,
    expect: [
      [
        'error',
        'net-conf.json: Network',
        'Network 10.244.0.0/29 is too small: the minimum useful prefix is /28',
        /\/28 or shorter/,
      ],
    ],
  },
  {
    name: 'etcd mode: IPv6Network too small',
    conf: net({ EnableIPv6: true, IPv6Network: 'fd00::/125' }),
    options: ETCD,
    expect: [
      [
        'error',
        'net-conf.json: IPv6Network',
        'IPv6Network fd00::/125 is too small: the minimum useful prefix is /124',
      ],
    ],
  },
  {
    name: 'etcd mode: SubnetLen above 30',
    conf: net({ SubnetLen: 31 }),
    options: ETCD,
    expect: [
      [
        'error',
        'net-conf.json: SubnetLen',
        'SubnetLen 31 is too long: it must be /30 or shorter (flanneld: "SubnetLen must be less than /31")',
      ],
    ],
  },
  {
    name: 'etcd mode: IPv6SubnetLen above 126',
    conf: net({ EnableIPv6: true, IPv6Network: 'fd00::/56', IPv6SubnetLen: 127 }),
    options: ETCD,
    expect: [
      [
        'error',
        'net-conf.json: IPv6SubnetLen',
        'IPv6SubnetLen 127 is too long: it must be /126 or shorter (flanneld: "IPv6SubnetLen must be less than /127")',
      ],
    ],
  },
  {
    name: 'etcd mode: SubnetLen shorter than prefix + 2',
    conf: net({ SubnetLen: 17 }),
    options: ETCD,
    expect: [
      [
        'error',
        'net-conf.json: SubnetLen',
        'SubnetLen 17 leaves room for fewer than four subnets in 10.244.0.0/16; it must be at least /18',
        /from 18 to 30/,
      ],
    ],
  },
  {
    name: 'etcd mode: SubnetMin outside Network, SubnetMax off the boundary',
    conf: net({ SubnetLen: 24, SubnetMin: '10.245.0.0', SubnetMax: '10.244.1.128' }),
    options: ETCD,
    expect: [
      [
        'error',
        'net-conf.json: SubnetMin',
        'SubnetMin 10.245.0.0 is not inside Network 10.244.0.0/16',
        /10\.244\.1\.0/,
      ],
      [
        'error',
        'net-conf.json: SubnetMax',
        'SubnetMax 10.244.1.128 is not on a SubnetLen boundary (/24)',
        /^use 10\.244\.1\.0,/,
      ],
    ],
  },
  {
    name: 'etcd mode: SubnetMin misaligned with a default SubnetLen (flannel#598)',
    conf: net({ Network: '10.200.0.0/16', SubnetLen: 26, SubnetMin: '10.200.0.2' }),
    options: ETCD,
    expect: [
      [
        'error',
        'net-conf.json: SubnetMin',
        'SubnetMin 10.200.0.2 is not on a SubnetLen boundary (/26)',
        /^use 10\.200\.0\.0,/,
      ],
    ],
  },
  {
    name: 'SubnetMin that is not an address',
    conf: net({ SubnetMin: '10.244.x.0' }),
    expect: [['error', 'net-conf.json: SubnetMin', 'SubnetMin "10.244.x.0" is not an IPv4 address']],
  },
  {
    name: 'etcd mode: SubnetMin above SubnetMax',
    conf: net({ SubnetMin: '10.244.9.0', SubnetMax: '10.244.2.0' }),
    options: ETCD,
    expect: [
      ['error', 'net-conf.json: SubnetMin', 'SubnetMin is above SubnetMax: there is no subnet to allocate'],
    ],
  },
  {
    name: 'etcd mode: IPv6SubnetMin outside IPv6Network',
    conf: net({ EnableIPv6: true, IPv6Network: 'fd00::/56', IPv6SubnetMin: 'fd01::' }),
    options: ETCD,
    expect: [
      ['error', 'net-conf.json: IPv6SubnetMin', 'IPv6SubnetMin fd01:: is not inside IPv6Network fd00::/56'],
    ],
  },
  {
    name: 'too few subnets for the nodes (etcd mode: an error)',
    conf: net({ Network: '10.244.0.0/22' }),
    options: { nodeCount: 5, subnetManager: 'etcd' },
    expect: [
      [
        'error',
        'net-conf.json: Network',
        'Network 10.244.0.0/22 holds 3 subnets of /24 (the first is skipped), fewer than the 5 nodes',
        /\/21 or shorter/,
      ],
    ],
  },
  {
    name: 'too few subnets for the nodes (kube mode: a warning)',
    conf: net({ Network: '10.244.0.0/22' }),
    options: { nodeCount: 5 },
    expect: [
      [
        'warning',
        'net-conf.json: Network',
        'Network 10.244.0.0/22 holds 3 subnets of /24 (the first is skipped), fewer than the 5 nodes; with --kube-subnet-mgr the podCIDRs decide, but kube-controller-manager runs out the same way',
      ],
    ],
  },
  {
    name: 'exactly enough subnets is fine',
    conf: net({ Network: '10.244.0.0/22' }),
    options: { nodeCount: 3, subnetManager: 'etcd' },
    expect: [],
  },
  {
    name: 'missing Backend falls back to udp',
    conf: { Network: '10.244.0.0/16' },
    expect: [
      [
        'warning',
        'net-conf.json: Backend',
        'Backend is missing, so flanneld silently uses the udp backend (the documentation says vxlan)',
        /"Type": "host-gw"/,
      ],
    ],
  },
  {
    name: 'Backend without Type',
    conf: net({ Backend: {} }),
    expect: [
      [
        'error',
        'net-conf.json: Backend.Type',
        'Backend.Type is missing: flanneld fails with "unknown backend type: "',
        /host-gw/,
      ],
    ],
  },
  {
    name: 'unknown backend type lists the valid ones',
    conf: net({ Backend: { Type: 'geneve' } }),
    expect: [
      ['error', 'net-conf.json: Backend.Type', `unknown backend type "geneve"; valid types: ${TYPES}`],
    ],
  },
  {
    name: 'removed backend type',
    conf: net({ Backend: { Type: 'aws-vpc' } }),
    expect: [
      ['error', 'net-conf.json: Backend.Type', 'backend type "aws-vpc" was removed in flannel v0.20.0'],
    ],
  },
  {
    name: 'vxlan option types and ranges',
    conf: net({
      Backend: {
        Type: 'vxlan',
        VNI: 16777216,
        Port: 70000,
        GBP: 'yes',
        DirectRouting: 1,
        MTU: 40,
        MacPrefix: '0E2A',
        Name: 7,
      },
    }),
    expect: [
      ['error', 'net-conf.json: Backend.VNI', 'Backend.VNI 16777216 is out of range 1..16777215'],
      [
        'error',
        'net-conf.json: Backend.Port',
        'Backend.Port 70000 is out of range 1..65535',
        /0 or unset means the kernel default 8472/,
      ],
      ['error', 'net-conf.json: Backend.GBP', 'Backend.GBP must be true or false, got "yes"', /unquoted/],
      ['error', 'net-conf.json: Backend.DirectRouting', 'Backend.DirectRouting must be true or false, got 1'],
      ['error', 'net-conf.json: Backend.MTU', 'Backend.MTU 40 is out of range 68..65535', /interface MTU/],
      [
        'error',
        'net-conf.json: Backend.MacPrefix',
        'Backend.MacPrefix "0E2A" is not two hex bytes like "0E-2A"',
      ],
      ['error', 'net-conf.json: Backend.Name', 'Backend.Name must be a string, got 7'],
    ],
  },
  {
    name: 'vxlan VNI as a string and a zero Port/MTU (defaults)',
    conf: net({ Backend: { Type: 'vxlan', VNI: '1', Port: 0, MTU: 0 } }),
    expect: [
      ['error', 'net-conf.json: Backend.VNI', 'Backend.VNI must be an integer in 1..16777215, got "1"'],
    ],
  },
  {
    name: 'wireguard options',
    conf: net({
      Backend: {
        Type: 'wireguard',
        ListenPort: 0,
        ListenPortV6: 1.5,
        PSK: 'abc',
        PersistentKeepaliveInterval: -1,
        Mode: 'both',
      },
    }),
    expect: [
      ['error', 'net-conf.json: Backend.ListenPort', 'Backend.ListenPort 0 is out of range 1..65535'],
      [
        'error',
        'net-conf.json: Backend.ListenPortV6',
        'Backend.ListenPortV6 must be an integer in 1..65535, got 1.5',
      ],
      [
        'error',
        'net-conf.json: Backend.PSK',
        'Backend.PSK "abc" is not a 32-byte base64 key from `wg genpsk`',
      ],
      [
        'error',
        'net-conf.json: Backend.PersistentKeepaliveInterval',
        'Backend.PersistentKeepaliveInterval -1 is out of range 0..2147483647',
      ],
      [
        'error',
        'net-conf.json: Backend.Mode',
        'Backend.Mode must be one of separate, auto, ipv4, ipv6, got "both"',
      ],
    ],
  },
  {
    name: 'valid wireguard options are clean',
    conf: net({
      Backend: {
        Type: 'wireguard',
        ListenPort: 51820,
        PSK: 'W3x2UzDCg9i7aTQJt7Eb7g5k4N1p7p2pZ0rXJd0mQ1E=',
        Mode: 'auto',
        MTU: 1420,
      },
    }),
    expect: [],
  },
  {
    name: 'udp Port range',
    conf: net({ Backend: { Type: 'udp', Port: 0 } }),
    expect: [['error', 'net-conf.json: Backend.Port', 'Backend.Port 0 is out of range 1..65535']],
  },
  {
    name: 'ipsec PSK too short',
    conf: net({ Backend: { Type: 'ipsec', PSK: 'short', UDPEncap: 'true' } }),
    expect: [
      ['error', 'net-conf.json: Backend.PSK', 'Backend.PSK is 5 characters long; it must be at least 96'],
      ['error', 'net-conf.json: Backend.UDPEncap', 'Backend.UDPEncap must be true or false, got "true"'],
    ],
  },
  {
    name: 'ipsec without PSK',
    conf: net({ Backend: { Type: 'ipsec' } }),
    expect: [
      [
        'error',
        'net-conf.json: Backend.PSK',
        'the ipsec backend needs a PSK (at least 96 characters); flanneld refuses to start without one',
      ],
    ],
  },
  {
    name: 'ipip with IPv6',
    conf: net({ EnableIPv6: true, IPv6Network: 'fd00::/56', Backend: { Type: 'ipip', DirectRouting: true } }),
    expect: [
      [
        'warning',
        'net-conf.json: Backend.Type',
        'the ipip backend carries IPv4 only; IPv6 pod traffic gets no route',
      ],
    ],
  },
  {
    name: 'options host-gw does not have',
    conf: net({ Backend: { Type: 'host-gw', DirectRouting: true } }),
    expect: [
      [
        'warning',
        'net-conf.json: Backend.DirectRouting',
        'host-gw has no options; flanneld ignores Backend.DirectRouting',
      ],
    ],
  },
  {
    name: 'misspelt vxlan option',
    conf: net({ Backend: { Type: 'vxlan', DirectRoute: true } }),
    expect: [
      [
        'warning',
        'net-conf.json: Backend.DirectRoute',
        'Backend.DirectRoute is not a vxlan option; flanneld ignores it',
        /DirectRouting/,
      ],
    ],
  },
  {
    name: 'extension options pass through without warnings',
    conf: net({ Backend: { Type: 'extension', PreStartupCommand: 'true', SubnetAddCommand: 'x' } }),
    expect: [],
  },
  {
    name: 'unknown top-level key',
    conf: net({ SubnetLength: 24 }),
    expect: [
      [
        'warning',
        'net-conf.json: SubnetLength',
        'unknown key "SubnetLength"; flanneld ignores it',
        /SubnetLen/,
      ],
    ],
  },
  {
    name: 'EnableIPv6 without IPv6Network',
    conf: net({ EnableIPv6: true }),
    expect: [
      [
        'error',
        'net-conf.json: IPv6Network',
        'IPv6Network is missing; it is required when EnableIPv6 is true',
        /fd00/,
      ],
    ],
  },
  {
    name: 'IPv4 on (the default) without Network',
    conf: { Backend: HOST_GW },
    expect: [
      [
        'error',
        'net-conf.json: Network',
        'Network is missing; it is required when EnableIPv4 is true (the default)',
        /--cluster-cidr/,
      ],
    ],
  },
  {
    name: 'IPv6Network without EnableIPv6',
    conf: net({ IPv6Network: 'fd00::/56' }),
    expect: [
      [
        'warning',
        'net-conf.json: IPv6Network',
        'IPv6Network is set but EnableIPv6 is not true, so flanneld ignores it',
        /"EnableIPv6": true/,
      ],
    ],
  },
  {
    name: 'EnableIPv4 false without EnableIPv6',
    conf: { EnableIPv4: false, Backend: HOST_GW },
    expect: [
      [
        'error',
        'net-conf.json: EnableIPv4',
        'EnableIPv4 is false and EnableIPv6 is not true: flanneld has no network to manage',
        /"EnableIPv6": true/,
      ],
    ],
  },
  {
    name: 'IPv6-only is clean',
    conf: { EnableIPv4: false, EnableIPv6: true, IPv6Network: 'fd00::/56', Backend: HOST_GW },
    expect: [],
  },
  {
    name: 'node without podCIDR',
    conf: net({}),
    options: { nodes: [node('worker-1')] },
    expect: [
      [
        'error',
        'node worker-1: spec.podCIDRs',
        'node "worker-1" has no podCIDR: flanneld fails with "node \\"worker-1\\" pod cidr not assigned"',
        /--allocate-node-cidrs=true --cluster-cidr=10\.244\.0\.0\/16/,
      ],
    ],
  },
  {
    name: 'podCIDR outside Network',
    conf: net({}),
    options: { nodes: [node('a', '10.244.0.0/24'), node('b', '10.245.1.0/24')] },
    expect: [
      [
        'error',
        'node b: spec.podCIDRs',
        'Network 10.244.0.0/16 does not contain podCIDR 10.245.1.0/24 of node "b": flanneld fails with ' +
          '"subnet \\"10.244.0.0/16\\" specified in the flannel net config doesn\'t contain \\"10.245.1.0/24\\" PodCIDR of the \\"b\\" node"',
        /e\.g\. 10\.244\.0\.0\/15$/,
      ],
    ],
  },
  {
    name: 'IPv6 podCIDR outside IPv6Network',
    conf: net({ EnableIPv6: true, IPv6Network: 'fd00::/56' }),
    options: { nodes: [node('a', '10.244.0.0/24', 'fd01::/64')] },
    expect: [
      [
        'error',
        'node a: spec.podCIDRs',
        'IPv6Network fd00::/56 does not contain podCIDR fd01::/64 of node "a": flanneld fails with ' +
          '"subnet \\"fd00::/56\\" specified in the flannel net config doesn\'t contain \\"fd01::/64\\" PodCIDR of the \\"a\\" node"',
      ],
    ],
  },
  {
    name: 'overlapping podCIDRs',
    conf: net({}),
    options: { nodes: [node('a', '10.244.0.0/24'), node('b', '10.244.0.128/25')] },
    expect: [
      [
        'error',
        'node b: spec.podCIDRs',
        'podCIDR 10.244.0.128/25 of node "b" overlaps podCIDR 10.244.0.0/24 of node "a": pods on both get the same addresses',
      ],
    ],
  },
  {
    name: 'too many podCIDRs and a bad one',
    conf: net({}),
    options: { nodes: [node('a', '10.244.0.0/24', 'fd00::/64', '10.244.9.0/24'), node('b', 'bogus')] },
    expect: [
      [
        'error',
        'node a: spec.podCIDRs',
        'node "a" has 3 podCIDRs: flanneld fails with "pod cidrs should be IPv4/IPv6 only or dualstack"',
      ],
      ['error', 'node b: spec.podCIDRs', 'node "b" has podCIDR "bogus", which is not a CIDR'],
    ],
  },
  {
    name: 'kube mode: SubnetLen/SubnetMin that disagree with podCIDRs are ignored',
    conf: net({ SubnetLen: 26, SubnetMin: '10.244.8.0' }),
    options: { nodes: [node('a', '10.244.0.0/24')] },
    expect: [
      [
        'warning',
        'net-conf.json: SubnetLen',
        'SubnetLen 26 is ignored with --kube-subnet-mgr: node "a" uses its podCIDR 10.244.0.0/24 (/24)',
        /or set it to 24/,
      ],
      [
        'warning',
        'net-conf.json: SubnetMin',
        'SubnetMin/SubnetMax are ignored with --kube-subnet-mgr: node "a" has podCIDR 10.244.0.0/24 outside that range',
      ],
    ],
  },
  {
    name: 'kube mode: SubnetLen that matches the podCIDRs is fine',
    conf: net({ SubnetLen: 24 }),
    options: { nodes: [node('a', '10.244.0.0/24'), node('b', '10.244.1.0/24')] },
    expect: [],
  },
  {
    name: 'etcd mode does not mention --kube-subnet-mgr',
    conf: net({ SubnetLen: 26 }),
    options: { nodes: [node('a', '10.244.0.0/24')], subnetManager: 'etcd' },
    expect: [],
  },
];

for (const c of cases) {
  test(`validate: ${c.name}`, () => {
    const problems = validateNetConf(parseNetConf(JSON.stringify(c.conf)), c.options);
    assert.deepEqual(
      problems.map((p) => [p.severity, p.field, p.message]),
      c.expect.map(([severity, field, message]) => [severity, field, message]),
    );
    for (const [index, expected] of c.expect.entries()) {
      const fix = problems[index]!.fix;
      assert.ok(fix.length > 0, 'every problem says how to fix it');
      if (expected[3]) assert.match(fix, expected[3]);
    }
  });
}

test('errors sort before warnings, and hasErrors/formatProblem report them', () => {
  const problems = validateNetConf(parseNetConf('{"Network":"10.244.1.0/16","Backend":{"Type":"foo"}}'));
  assert.deepEqual(
    problems.map((p) => p.severity),
    ['error', 'warning'],
  );
  assert.equal(hasErrors(problems), true);
  assert.equal(hasErrors(problems.slice(1)), false);
  assert.equal(
    formatProblem(problems[1]!),
    'warning: net-conf.json: Network: Network "10.244.1.0/16" has host bits set; flanneld silently uses 10.244.0.0/16\n' +
      '  fix: write "10.244.0.0/16"',
  );
});

test('the source name appears in every field', () => {
  const [problem] = validateNetConf(parseNetConf('{"Backend":{"Type":"host-gw"}}'), {
    source: 'cm/kube-flannel-cfg',
  });
  assert.equal(problem?.field, 'cm/kube-flannel-cfg: Network');
});
