import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  buildNetConf,
  listImages,
  parseManifest,
  renderManifest,
  rewriteRegistry,
  toJsonList,
  toYaml,
} from '../../src/flannel/manifest.ts';
import { defaultManifestOptions } from '../../src/flannel/manifest-options.ts';
import type { KubeObject } from '../../src/flannel/kube-object.ts';
import { parseNetConf } from '../../src/flannel/net-conf.ts';
import { bridgeMasquerades, flannelPlugin, parseCniConf } from '../../src/flannel/cni-conf.ts';

const fixture = (): KubeObject[] =>
  parseManifest(
    readFileSync(new URL('../../fixtures/manifests/kube-flannel-v0.28.9.yml', import.meta.url), 'utf8'),
  );

const find = (objects: KubeObject[], kind: string): KubeObject => {
  const object = objects.find((o) => o.kind === kind);
  assert.ok(object, `${kind} rendered`);
  return object;
};

// Typed views into the DaemonSet, so tests read like the YAML.
interface Container {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: Array<{ name: string; value?: string }>;
  ports?: unknown;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  securityContext: { privileged: boolean };
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: { initContainers: Container[]; containers: Container[] };
}
const dsSpec = (objects: KubeObject[]) =>
  find(objects, 'DaemonSet').spec as {
    selector: { matchLabels: Record<string, string> };
    template: PodTemplate;
  };
const flanneld = (objects: KubeObject[]): Container => dsSpec(objects).template.spec.containers[0]!;
const installCni = (objects: KubeObject[]): Container => dsSpec(objects).template.spec.initContainers[1]!;
const configData = (objects: KubeObject[]) => find(objects, 'ConfigMap').data as Record<string, string>;

test('vxlan renders exactly the upstream v0.28.9 manifest', () => {
  assert.deepEqual(renderManifest({ backend: 'vxlan' }), fixture());
});

test('host-gw differs from upstream only in net-conf.json Backend.Type', () => {
  const ours = renderManifest({ backend: 'host-gw', network: '10.244.0.0/16' });
  const upstream = fixture();
  const ourNet = JSON.parse(configData(ours)['net-conf.json']!) as Record<string, unknown>;
  const upstreamNet = JSON.parse(configData(upstream)['net-conf.json']!) as Record<string, unknown>;
  assert.deepEqual(ourNet, { ...upstreamNet, Backend: { Type: 'host-gw' } });
  assert.deepEqual(
    JSON.parse(configData(ours)['cni-conf.json']!),
    JSON.parse(configData(upstream)['cni-conf.json']!),
  );
  const withoutNetConf = (objects: KubeObject[]) =>
    objects.map((o) =>
      o.kind === 'ConfigMap' ? { ...o, data: { ...(o.data as object), 'net-conf.json': '' } } : o,
    );
  assert.deepEqual(withoutNetConf(ours), withoutNetConf(upstream));
});

test('defaults render host-gw on 10.244.0.0/16', () => {
  assert.equal(defaultManifestOptions().backend, 'host-gw');
  const net = parseNetConf(configData(renderManifest())['net-conf.json']!);
  assert.equal(net.Network, '10.244.0.0/16');
  assert.equal(net.Backend.Type, 'host-gw');
});

test('YAML output parses back to the same objects and starts each document with ---', () => {
  const objects = renderManifest({ backend: 'vxlan-directrouting', iface: ['eth1'] });
  const text = toYaml(objects);
  assert.equal(text.split(/^---$/m).length - 1, objects.length);
  assert.ok(text.startsWith('---\n'));
  assert.deepEqual(parseManifest(text), objects);
});

test('a JSON v1 List parses back to the same objects', () => {
  const objects = renderManifest();
  const list = JSON.parse(toJsonList(objects)) as { apiVersion: string; kind: string; items: unknown[] };
  assert.equal(list.apiVersion, 'v1');
  assert.equal(list.kind, 'List');
  assert.deepEqual(parseManifest(toJsonList(objects)), objects);
});

test('YAML quotes strings that YAML 1.1 would read as booleans', () => {
  const values = ['yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'ON', 'true', 'false', '5000'];
  const labels = Object.fromEntries(values.map((v, i) => [`l${i}`, v]));
  const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels } };
  const text = toYaml([object]);
  for (const value of values) assert.match(text, new RegExp(`: "${value}"$`, 'm'), `${value} is quoted`);
  assert.deepEqual(parseManifest(text), [object]);
});

test('unquoted yes in a manifest reads as a boolean, as Kubernetes reads it', () => {
  const [object] = parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: yes\n');
  assert.deepEqual(object?.data, { a: true });
});

test('parseManifest names the line of a YAML syntax error', () => {
  assert.throws(
    () => parseManifest('apiVersion: v1\nkind: [Namespace\n', 'flannel.yml'),
    /flannel\.yml: invalid YAML at line \d+/,
  );
  assert.throws(() => parseManifest('- 1\n- 2\n', 'x.yml'), /x\.yml document 1 is not a Kubernetes object/);
});

test('legacy kube-system layout has no Namespace object and binds the SA in kube-system', () => {
  const objects = renderManifest({ namespace: 'kube-system' });
  assert.deepEqual(
    objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}`),
    [
      'ClusterRole/',
      'ClusterRoleBinding/',
      'ServiceAccount/kube-system',
      'ConfigMap/kube-system',
      'DaemonSet/kube-system',
    ],
  );
  const binding = find(objects, 'ClusterRoleBinding') as { subjects?: Array<{ namespace: string }> };
  assert.equal(binding.subjects?.[0]?.namespace, 'kube-system');
  assert.ok(!objects.some((o) => o.kind === 'PodSecurityPolicy'));
});

test('a custom namespace gets its own privileged Namespace object', () => {
  const objects = renderManifest({ namespace: 'net' });
  assert.deepEqual(find(objects, 'Namespace').metadata, {
    name: 'net',
    labels: { 'k8s-app': 'flannel', 'pod-security.kubernetes.io/enforce': 'privileged' },
  });
  assert.equal(find(objects, 'DaemonSet').metadata.namespace, 'net');
});

test('release selector variant adds k8s-app to the selector and pod labels', () => {
  const spec = dsSpec(renderManifest({ selectorVariant: 'release' }));
  assert.deepEqual(spec.selector.matchLabels, { app: 'flannel', 'k8s-app': 'flannel' });
  assert.deepEqual(spec.template.metadata.labels, { tier: 'node', app: 'flannel', 'k8s-app': 'flannel' });
  assert.deepEqual(dsSpec(renderManifest()).selector.matchLabels, { app: 'flannel' });
});

test('versions before v0.26.4 use docker.io/flannel images, later ones ghcr.io', () => {
  assert.deepEqual(listImages({ flannelVersion: 'v0.26.3', cniPluginVersion: 'v1.6.0-flannel1' }), [
    'docker.io/flannel/flannel-cni-plugin:v1.6.0-flannel1',
    'docker.io/flannel/flannel:v0.26.3',
  ]);
  assert.deepEqual(listImages({ flannelVersion: '0.26.4' }), [
    'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
    'ghcr.io/flannel-io/flannel:v0.26.4',
  ]);
});

test('probes and healthz exist only from v0.28.9, install-conf only from v0.28.6', () => {
  const old = renderManifest({ flannelVersion: 'v0.28.5' });
  const container = flanneld(old);
  assert.deepEqual(container.args, ['--ip-masq', '--kube-subnet-mgr']);
  assert.equal(container.ports, undefined);
  assert.equal(container.livenessProbe, undefined);
  assert.equal(container.readinessProbe, undefined);
  assert.deepEqual(
    [installCni(old).command, installCni(old).args],
    [['cp'], ['-f', '/etc/kube-flannel/cni-conf.json', '/etc/cni/net.d/10-flannel.conflist']],
  );
  const mid = renderManifest({ flannelVersion: 'v0.28.6' });
  assert.deepEqual(installCni(mid).command, ['/opt/bin/install-conf']);
  assert.equal(flanneld(mid).livenessProbe, undefined);
  assert.ok(flanneld(renderManifest()).readinessProbe);
});

test('CONT_WHEN_CACHE_NOT_READY is set only from v0.27.1', () => {
  const names = (version: string) =>
    flanneld(renderManifest({ flannelVersion: version })).env.map((e) => e.name);
  assert.ok(!names('v0.27.0').includes('CONT_WHEN_CACHE_NOT_READY'));
  assert.ok(names('v0.27.1').includes('CONT_WHEN_CACHE_NOT_READY'));
});

test('a bad flannel version is a usage error', () => {
  assert.throws(() => renderManifest({ flannelVersion: 'latest' }), {
    name: 'UsageError',
    message: 'flannel version "latest" is not a release version',
  });
});

test('imageRegistry rewrites the registry of every default image; overrides are used as given', () => {
  assert.deepEqual(listImages({ imageRegistry: 'mirror.local:5000/' }), [
    'mirror.local:5000/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
    'mirror.local:5000/flannel-io/flannel:v0.28.9',
  ]);
  const objects = renderManifest({
    imageRegistry: 'mirror.local',
    flannelImage: 'quay.io/me/flannel:dev',
  });
  const spec = dsSpec(objects).template.spec;
  assert.deepEqual(
    [...spec.initContainers, ...spec.containers].map((c) => c.image),
    [
      'mirror.local/flannel-io/flannel-cni-plugin:v1.9.1-flannel3',
      'quay.io/me/flannel:dev',
      'quay.io/me/flannel:dev',
    ],
  );
  assert.equal(
    rewriteRegistry('flannel/flannel:v0.20.0', 'r.example/hub'),
    'r.example/hub/flannel/flannel:v0.20.0',
  );
  assert.equal(rewriteRegistry('localhost/flannel:x', 'r.example'), 'r.example/flannel:x');
  assert.throws(() => rewriteRegistry('a/b:c', 'https://r.example'), /is not a registry host/);
});

test('flags map onto flanneld args and cni-conf.json', () => {
  const objects = renderManifest({
    ipMasq: false,
    hairpin: false,
    defaultGateway: false,
    iface: ['eth1', 'bond0'],
    ifaceRegex: ['^enp'],
  });
  assert.deepEqual(flanneld(objects).args, [
    '--kube-subnet-mgr',
    '--healthz-port=8081',
    '--iface=eth1',
    '--iface=bond0',
    '--iface-regex=^enp',
  ]);
  const cni = JSON.parse(configData(objects)['cni-conf.json']!) as { plugins: Array<{ delegate?: unknown }> };
  assert.deepEqual(cni.plugins[0]?.delegate, { hairpinMode: false, isDefaultGateway: false, ipMasq: false });
});

// flannel-io/cni-plugin flannel_linux.go doCmdAdd: a delegate without ipMasq gets !FLANNEL_IPMASQ,
// and FLANNEL_IPMASQ is flanneld's --ip-masq (flannel main.go, pkg/subnet/subnet.go WriteSubnetFile).
test('--no-ip-masq leaves nothing masquerading: no flanneld --ip-masq and "ipMasq": false in the delegate', () => {
  const delegateOf = (objects: ReturnType<typeof renderManifest>) =>
    flannelPlugin(parseCniConf(configData(objects)['cni-conf.json']!))?.delegate;
  const off = renderManifest({ ipMasq: false });
  assert.equal(flanneld(off).args.includes('--ip-masq'), false);
  assert.equal(delegateOf(off)?.ipMasq, false);
  assert.equal(bridgeMasquerades(delegateOf(off), false), false);
  // The default keeps the upstream manifest: flanneld masquerades, the delegate says nothing.
  const on = renderManifest({});
  assert.equal(flanneld(on).args.includes('--ip-masq'), true);
  assert.equal('ipMasq' in (delegateOf(on) ?? {}), false);
  assert.equal(bridgeMasquerades(delegateOf(on), true), false);
});

test('net-conf options: MTU, DirectRouting, subnets, IPv6, nftables', () => {
  assert.deepEqual(buildNetConf({ backend: 'vxlan', mtu: 9000 }).Backend, { Type: 'vxlan', MTU: 9000 });
  assert.deepEqual(buildNetConf({ backend: 'vxlan-directrouting' }).Backend, {
    Type: 'vxlan',
    DirectRouting: true,
  });
  assert.deepEqual(buildNetConf({ backend: 'wireguard', mtu: 1420 }).Backend, {
    Type: 'wireguard',
    MTU: 1420,
  });
  const text = configData(
    renderManifest({
      network: '10.10.0.0/16',
      subnetLen: 25,
      ipv6Network: 'fd00:10::/56',
      enableNFTables: true,
    }),
  )['net-conf.json'];
  assert.equal(
    text,
    '{\n  "Network": "10.10.0.0/16",\n  "SubnetLen": 25,\n  "EnableIPv6": true,\n  "IPv6Network": "fd00:10::/56",\n' +
      '  "EnableNFTables": true,\n  "Backend": {\n    "Type": "host-gw"\n  }\n}\n',
  );
});

test('--mtu with host-gw is refused: host-gw uses the interface MTU', () => {
  assert.throws(() => renderManifest({ backend: 'host-gw', mtu: 1400 }), {
    name: 'UsageError',
    message: '--mtu does not apply to the host-gw backend',
  });
});

test('the udp backend runs flanneld privileged (it needs /dev/net/tun)', () => {
  assert.equal(flanneld(renderManifest({ backend: { Type: 'udp' } })).securityContext.privileged, true);
  assert.equal(flanneld(renderManifest()).securityContext.privileged, false);
});
