import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.ts';
import { parseInventory } from '../../src/nodes/inventory.ts';
import { selectionWarnings, selectNodes, type ApiNode } from '../../src/nodes/select.ts';

const PUBLIC_IP = 'flannel.alpha.coreos.com/public-ip';

const apiNode = (
  name: string,
  addresses: Record<string, string>,
  annotations: Record<string, string> = {},
  podCIDRs: string[] = [],
): ApiNode => ({
  metadata: { name, annotations },
  spec: { ...(podCIDRs[0] ? { podCIDR: podCIDRs[0] } : {}), podCIDRs },
  status: { addresses: Object.entries(addresses).map(([type, address]) => ({ type, address })) },
});

const cluster: ApiNode[] = [
  apiNode('node-1', { InternalIP: '10.0.0.1', ExternalIP: '203.0.113.1' }, { [PUBLIC_IP]: '192.168.77.11' }, [
    '10.244.1.0/24',
    'fd00:10:244:1::/64',
  ]),
  apiNode('node-2', { InternalIP: '10.0.0.2', ExternalIP: '203.0.113.2', Hostname: 'node-2' }, {}, [
    '10.244.2.0/24',
  ]),
  apiNode('node-3', { InternalIP: '10.0.0.3' }, { [PUBLIC_IP]: 'not-an-ip' }),
];

const summary = (nodes: readonly { name: string; address: string; addressSource: string }[]) =>
  nodes.map((n) => `${n.name} ${n.address} ${n.addressSource}`);

test('by default the public-ip annotation is used, then InternalIP, and each choice says why', () => {
  const selection = selectNodes({ apiNodes: cluster });
  assert.deepEqual(summary(selection.nodes), [
    'node-1 192.168.77.11 public-ip-annotation',
    'node-2 10.0.0.2 internal-ip',
    'node-3 10.0.0.3 internal-ip',
  ]);
  const [n1, n2, n3] = selection.nodes;
  assert.equal(n1!.addressReason, `${PUBLIC_IP} annotation`);
  assert.deepEqual(n1!.podCIDRs, ['10.244.1.0/24', 'fd00:10:244:1::/64']);
  assert.equal(n2!.addressReason, `InternalIP (no ${PUBLIC_IP} annotation)`);
  assert.equal(n3!.addressReason, `InternalIP (no valid ${PUBLIC_IP} annotation)`);
  assert.deepEqual(selection.warnings, [`node node-3: ignoring ${PUBLIC_IP} "not-an-ip": not an IP address`]);
  assert.equal(n1!.peerAddress, '192.168.77.11');
});

test('--node-address picks one kind of address; nodes without it are unaddressable, with a hint', () => {
  const internal = selectNodes({ apiNodes: cluster, addressPreference: 'internal-ip' });
  assert.deepEqual(
    internal.nodes.map((n) => n.address),
    ['10.0.0.1', '10.0.0.2', '10.0.0.3'],
  );
  const external = selectNodes({ apiNodes: cluster, addressPreference: 'external-ip' });
  assert.deepEqual(summary(external.nodes), [
    'node-1 203.0.113.1 external-ip',
    'node-2 203.0.113.2 external-ip',
  ]);
  assert.deepEqual(external.unaddressable, [
    {
      name: 'node-3',
      reason: 'no ExternalIP in its status; try --node-address internal-ip or an --inventory',
    },
  ]);
  const publicIp = selectNodes({ apiNodes: cluster, addressPreference: 'public-ip' });
  assert.deepEqual(
    publicIp.nodes.map((n) => n.name),
    ['node-1'],
  );
  assert.match(publicIp.unaddressable[0]!.reason, /no usable .*public-ip annotation/);
});

test('a node with no address at all, or an address that is not plain, is never connected to', () => {
  const selection = selectNodes({
    apiNodes: [
      apiNode('bare', {}),
      apiNode('evil', { InternalIP: '10.0.0.9' }, { [PUBLIC_IP]: '$(reboot)' }),
      apiNode('host', { InternalIP: '-oProxyCommand=x' }),
    ],
  });
  assert.deepEqual(
    selection.nodes.map((n) => `${n.name} ${n.address}`),
    ['evil 10.0.0.9'],
  );
  assert.deepEqual(
    selection.unaddressable.map((u) => u.name),
    ['bare', 'host'],
  );
  assert.match(selection.unaddressable[1]!.reason, /is not an IP address or host name/);
});

test('--nodes keeps only the named nodes; an unknown name is a usage error listing the known ones', () => {
  const selection = selectNodes({ apiNodes: cluster, names: ['node-3', 'node-1'] });
  assert.deepEqual(
    selection.nodes.map((n) => n.name),
    ['node-3', 'node-1'],
  );
  assert.throws(
    () => selectNodes({ apiNodes: cluster, names: ['node-1', 'node-9'], selector: 'role=worker' }),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.message, '--nodes: no node named node-9 in the cluster (with -l role=worker)');
      assert.equal(error.hint, 'known nodes: node-1, node-2, node-3');
      return true;
    },
  );
});

const inventory = parseInventory(
  `ssh: { user: ubuntu, port: 2200 }
nodes:
  - { name: node-2, address: 192.168.77.12, ssh: { user: admin } }
  - { name: node-3, address: 192.168.77.13, podCIDR: 10.244.3.0/24, ssh: { host: node-3.mgmt, port: 22 } }
  - { name: node-4, address: 192.168.77.14 }
`,
  'inv.yaml',
);

test('beside the API the inventory wins for address and SSH settings, and extra inventory nodes are reported', () => {
  const selection = selectNodes({ apiNodes: cluster, inventory, sshUser: 'ops' });
  const byName = new Map(selection.nodes.map((n) => [n.name, n]));
  assert.deepEqual(summary(selection.nodes), [
    'node-1 192.168.77.11 public-ip-annotation',
    'node-2 192.168.77.12 inventory',
    'node-3 node-3.mgmt inventory-ssh-host',
  ]);
  // A node's own ssh settings beat --ssh-user, which beats the inventory's defaults.
  assert.deepEqual(
    [...byName.values()].map((n) => `${n.name} ${n.user}@${n.port}`),
    ['node-1 ops@2200', 'node-2 admin@2200', 'node-3 ops@22'],
  );
  assert.equal(byName.get('node-3')!.peerAddress, '192.168.77.13', 'peers route to the IP, not the ssh host');
  assert.equal(byName.get('node-3')!.addressReason, 'ssh.host in inv.yaml');
  assert.deepEqual(byName.get('node-2')!.podCIDRs, ['10.244.2.0/24'], 'the API podCIDR is the truth');
  assert.deepEqual(selection.notInApi, ['node-4']);
});

test('inventory alone: its nodes are the cluster, with their podCIDRs; --nodes checks names against it', () => {
  const selection = selectNodes({ inventory });
  assert.deepEqual(summary(selection.nodes), [
    'node-2 192.168.77.12 inventory',
    'node-3 node-3.mgmt inventory-ssh-host',
    'node-4 192.168.77.14 inventory',
  ]);
  assert.deepEqual(selection.nodes[1]!.podCIDRs, ['10.244.3.0/24']);
  assert.deepEqual(selection.notInApi, []);
  assert.throws(() => selectNodes({ inventory, names: ['node-1'] }), {
    message: '--nodes: no node named node-1 in inventory inv.yaml',
    hint: 'known nodes: node-2, node-3, node-4',
  });
});

test('dual stack: the public-ipv6 annotation becomes the IPv6 peer address; nodes without one have none', () => {
  const PUBLIC_IPV6 = 'flannel.alpha.coreos.com/public-ipv6';
  const selection = selectNodes({
    apiNodes: [
      apiNode(
        'node-1',
        { InternalIP: '10.0.0.1' },
        { [PUBLIC_IP]: '10.0.0.1', [PUBLIC_IPV6]: 'fd00:77::11' },
      ),
      apiNode('node-2', { InternalIP: '10.0.0.2' }, { [PUBLIC_IPV6]: '10.0.0.2' }),
      apiNode('node-3', { InternalIP: '10.0.0.3' }, { [PUBLIC_IPV6]: 'fd00::3; reboot' }),
      apiNode('node-4', { InternalIP: '10.0.0.4' }),
    ],
  });
  assert.deepEqual(
    selection.nodes.map((n) => n.peerAddressV6),
    ['fd00:77::11', undefined, undefined, undefined],
  );
  assert.equal(selection.nodes[0]!.peerAddress, '10.0.0.1');
  assert.ok(!('peerAddressV6' in selection.nodes[3]!), 'IPv4-only nodes look exactly as before');
});

test('a large inventory gives one summarised warning, not one line per node (-v shows every one)', () => {
  const big = parseInventory(
    `nodes:\n${Array.from({ length: 500 }, (_, i) => `  - { name: extra-${i}, address: 192.168.${Math.floor(i / 200)}.${(i % 200) + 1} }`).join('\n')}\n`,
    'big.yaml',
  );
  const badAnnotations = Array.from({ length: 40 }, (_, i) =>
    apiNode(`bad-${i}`, { InternalIP: `10.1.0.${i + 1}` }, { [PUBLIC_IP]: 'x' }),
  );
  const selection = selectNodes({ apiNodes: [...cluster, ...badAnnotations], inventory: big });
  const lines = selectionWarnings(selection);
  assert.equal(lines.length, 7, lines.join('\n'));
  assert.match(lines[5]!, /^warning: 36 more warning\(s\) like these; -v shows every one$/);
  assert.match(
    lines[6]!,
    /^warning: 500 inventory nodes are not in the cluster; skipped: extra-0, .*, extra-19 and 480 more$/,
  );
  assert.equal(selectionWarnings(selection, true).length, 42, 'verbose keeps every per-node warning');
  const one = selectNodes({ apiNodes: cluster, inventory });
  assert.deepEqual(selectionWarnings(one).slice(-1), [
    'warning: inventory node node-4 is not in the cluster; skipped',
  ]);
});
