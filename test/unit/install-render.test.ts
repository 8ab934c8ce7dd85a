import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.ts';

interface ListOut {
  kind: string;
  items: { kind: string; metadata: { name: string }; data?: Record<string, string> }[];
}

const upstream = (): ListOut['items'] =>
  readFileSync(new URL('../../fixtures/manifests/kube-flannel-v0.28.9.yml', import.meta.url), 'utf8')
    .split(/^---$/m)
    .map((doc) => parse(doc) as ListOut['items'][number] | null)
    .filter((d): d is ListOut['items'][number] => d !== null);

/** The ConfigMap's JSON documents compared as data, the rest field for field. */
const normalise = (items: ListOut['items']) =>
  items.map((item) =>
    item.data
      ? {
          ...item,
          data: Object.fromEntries(Object.entries(item.data).map(([k, v]) => [k, JSON.parse(v) as unknown])),
        }
      : item,
  );

test('install --dry-run -o json prints upstream v0.28.9 field for field, except Backend.Type', async () => {
  const r = await runCli([
    'install',
    '--dry-run',
    '--backend',
    'host-gw',
    '--network',
    '10.244.0.0/16',
    '-o',
    'json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as ListOut;
  assert.equal(list.kind, 'List');
  const expected = normalise(upstream()) as unknown as {
    kind: string;
    data?: { 'net-conf.json': { Backend: { Type: string } } };
  }[];
  const cm = expected.find((o) => o.kind === 'ConfigMap')!;
  assert.equal(cm.data!['net-conf.json'].Backend.Type, 'vxlan');
  cm.data!['net-conf.json'].Backend.Type = 'host-gw';
  assert.deepEqual(normalise(list.items), expected);
});

test('install --dry-run -o yaml is the same manifest as YAML, ready for kubectl apply -f -', async () => {
  const json = await runCli(['install', '--dry-run', '--backend', 'vxlan', '-o', 'json']);
  const yaml = await runCli(['install', '--dry-run', '--backend', 'vxlan', '-o', 'yaml']);
  assert.equal(yaml.code, 0, yaml.stderr);
  const docs = yaml.stdout
    .split(/^---$/m)
    .map((d) => parse(d) as unknown)
    .filter((d) => d !== null);
  assert.deepEqual(docs, (JSON.parse(json.stdout) as ListOut).items);
  assert.deepEqual(normalise(docs as ListOut['items']), normalise(upstream()));
});

test('a new install without --backend outside a terminal fails with exit 2 and says what to pass', async () => {
  const r = await runCli(['install', '--dry-run']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--backend is required for a new install/);
  assert.equal(r.stdout, '');
});

test('bad input is a usage error naming the flag: invalid CIDR, --mtu on host-gw, conflicting modes', async () => {
  const cidr = await runCli(['install', '--dry-run', '--backend', 'vxlan', '--network', '10.244.0.0/33']);
  assert.equal(cidr.code, 2);
  assert.match(cidr.stderr, /Network "10\.244\.0\.0\/33" is not a valid IPv4 CIDR/);
  const mtu = await runCli(['install', '--dry-run', '--backend', 'host-gw', '--mtu', '1400']);
  assert.equal(mtu.code, 2);
  assert.match(mtu.stderr, /--mtu does not apply to the host-gw backend/);
  const notNumber = await runCli(['install', '--dry-run', '--backend', 'vxlan', '--mtu', 'big']);
  assert.equal(notNumber.code, 2);
  assert.match(notNumber.stderr, /--mtu takes a whole number/);
  const modes = await runCli(['install', '--dry-run', '--diff', '--backend', 'vxlan']);
  assert.equal(modes.code, 2);
  assert.match(modes.stderr, /--dry-run and --diff cannot be combined/);
  const backend = await runCli(['install', '--dry-run', '--backend', 'geneve']);
  assert.equal(backend.code, 2);
  assert.match(backend.stderr, /argument 'geneve' is invalid/);
});

test('--print-images lists the images, rewritten to a mirror registry', async () => {
  const r = await runCli([
    'install',
    '--print-images',
    '--backend',
    'host-gw',
    '--image-registry',
    'registry.local:5000',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), [
    'registry.local:5000/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
    'registry.local:5000/flannel-io/flannel:v0.28.9',
  ]);
});
