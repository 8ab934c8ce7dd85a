import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.ts';
import { loadInventory, parseInventory } from '../../src/nodes/inventory.ts';

const FILE = 'nodes.yaml';

const rejects = (text: string, message: RegExp): void => {
  assert.throws(
    () => parseInventory(text, FILE),
    (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, message);
      return true;
    },
  );
};

test('a YAML inventory with defaults and per-node ssh settings is read as written', () => {
  const inventory = parseInventory(
    `ssh:
  user: ubuntu
  port: 2222
nodes:
  - name: node-1
    address: 192.168.77.11
    podCIDR: 10.244.1.0/24
  - name: node-2
    address: 192.168.77.12
    ssh: { user: admin, port: 22, host: node-2.mgmt.example.com }
`,
    FILE,
  );
  assert.deepEqual(inventory, {
    file: FILE,
    ssh: { user: 'ubuntu', port: 2222 },
    nodes: [
      { name: 'node-1', address: '192.168.77.11', podCIDR: '10.244.1.0/24' },
      {
        name: 'node-2',
        address: '192.168.77.12',
        ssh: { user: 'admin', port: 22, host: 'node-2.mgmt.example.com' },
      },
    ],
  });
});

test('a JSON inventory reads the same, IPv6 addresses and host names included', () => {
  const inventory = parseInventory(
    JSON.stringify({
      nodes: [
        { name: 'a', address: 'fd00::1' },
        { name: 'b', address: 'b.example.com' },
      ],
    }),
    'nodes.json',
  );
  assert.deepEqual(
    inventory.nodes.map((n) => n.address),
    ['fd00::1', 'b.example.com'],
  );
});

test('each invalid inventory is refused with the file, the entry and the field in the message', () => {
  const cases: [string, RegExp][] = [
    ['nodes: [', /^nodes\.yaml: line 1, column \d+: not valid YAML or JSON/],
    ['- a\n- b\n', /^nodes\.yaml: the file must hold a mapping with a "nodes" list/],
    ['hosts: []\nnodes: []', /^nodes\.yaml: unknown field "hosts" \(allowed: nodes, ssh\)/],
    ['ssh: {}', /^nodes\.yaml: nodes: must be a list of nodes/],
    ['nodes: []', /^nodes\.yaml: nodes: the list is empty/],
    ['nodes: [node-1]', /^nodes\.yaml: nodes\[0\]: must be a mapping with name and address/],
    ['nodes: [{address: 10.0.0.1}]', /^nodes\.yaml: nodes\[0\]\.name: is required/],
    [
      'nodes: [{name: Node_1, address: 10.0.0.1}]',
      /^nodes\.yaml: nodes\[0\]\.name: "Node_1" is not a valid node name/,
    ],
    ['nodes: [{name: a}]', /^nodes\.yaml: nodes\[0\]\.address: is required/],
    [
      'nodes: [{name: a, address: 10.0.0.1}, {name: b, address: "x; rm -rf /"}]',
      /^nodes\.yaml: nodes\[1\]\.address: "x; rm -rf \/" is not an IP address or host name/,
    ],
    [
      'nodes: [{name: a, address: -oProxyCommand=x}]',
      /nodes\[0\]\.address: "-oProxyCommand=x" is not an IP address/,
    ],
    ['nodes: [{name: a, address: 0x7f.1}]', /nodes\[0\]\.address: "0x7f\.1" is not an IP address/],
    [
      'nodes: [{name: a, address: 10.0.0.1, podCIDR: 10.244.1.0}]',
      /nodes\[0\]\.podCIDR: "10\.244\.1\.0" is not a CIDR/,
    ],
    [
      'nodes: [{name: a, address: 10.0.0.1, port: 22}]',
      /nodes\[0\]: unknown field "port" \(allowed: name, address, podCIDR, ssh\)/,
    ],
    [
      'nodes: [{name: a, address: 10.0.0.1, ssh: {user: "root; id"}}]',
      /nodes\[0\]\.ssh\.user: "root; id" is not a valid user name/,
    ],
    [
      'nodes: [{name: a, address: 10.0.0.1, ssh: {port: 70000}}]',
      /nodes\[0\]\.ssh\.port: 70000 is not a port number/,
    ],
    [
      'nodes: [{name: a, address: 10.0.0.1, ssh: {host: "a b"}}]',
      /nodes\[0\]\.ssh\.host: "a b" is not an IP address or host name/,
    ],
    [
      'nodes: [{name: a, address: 10.0.0.1, ssh: {identity: k}}]',
      /nodes\[0\]\.ssh: unknown field "identity" \(allowed: user, port, host\)/,
    ],
    [
      'ssh: {host: x}\nnodes: [{name: a, address: 10.0.0.1}]',
      /^nodes\.yaml: ssh: unknown field "host" \(allowed: user, port\)/,
    ],
    [
      'ssh: {port: "22"}\nnodes: [{name: a, address: 10.0.0.1}]',
      /^nodes\.yaml: ssh\.port: "22" is not a port number/,
    ],
    [
      'nodes: [{name: a, address: 10.0.0.1}, {name: a, address: 10.0.0.2}]',
      /nodes\[1\]\.name: "a" is already used by nodes\[0\]/,
    ],
    [
      'nodes: [{name: a, address: Node.Example}, {name: b, address: node.example}]',
      /nodes\[1\]\.address: "node\.example" is already used by nodes\[0\]/,
    ],
    [
      'nodes: [{name: a, address: 10.0.0.1, name: b}]',
      /^nodes\.yaml: line \d+, column \d+: not valid YAML or JSON: Map keys must be unique/,
    ],
  ];
  for (const [text, message] of cases) rejects(text, message);
});

test('loadInventory names the flag when the file cannot be read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-inv-'));
  await assert.rejects(
    loadInventory(join(dir, 'missing.yaml')),
    /--inventory .*missing\.yaml: cannot read it/,
  );
  const file = join(dir, 'ok.yaml');
  writeFileSync(file, 'nodes: [{name: a, address: 10.0.0.1}]\n');
  assert.equal((await loadInventory(file)).file, file);
  rmSync(dir, { recursive: true, force: true });
});
