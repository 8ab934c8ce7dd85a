import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultManifestOptions, resolveManifestOptions } from '../../src/flannel/manifest-options.ts';
import { validateManifestOptions } from '../../src/flannel/validate-manifest-options.ts';
import type { ManifestOptions } from '../../src/flannel/manifest-options.ts';

const summary = (options: Partial<ManifestOptions>, context = {}) =>
  validateManifestOptions(options, context).map((p) => `${p.severity} ${p.field}: ${p.message}`);

test('defaults are valid', () => {
  assert.deepEqual(summary({}), []);
  assert.deepEqual(summary(defaultManifestOptions()), []);
});

test('resolveManifestOptions keeps defaults for options given as undefined', () => {
  const o = resolveManifestOptions({ network: undefined, backend: 'vxlan' });
  assert.equal(o.network, '10.244.0.0/16');
  assert.equal(o.backend, 'vxlan');
});

test('bad option values are errors named by their flag', () => {
  assert.deepEqual(
    summary({
      namespace: 'Kube_Flannel',
      flannelVersion: 'latest',
      iface: ['eth1', 'not an iface'],
      ifaceRegex: ['^(?!lo)', '(['],
      imageRegistry: 'https://mirror',
    }),
    [
      'error --namespace: namespace "Kube_Flannel" is not a valid Kubernetes name',
      'error --flannel-version: flannel version "latest" is not a release version',
      'error --iface: "not an iface" is neither an interface name nor an IP address',
      'error --iface-regex: --iface-regex "^(?!lo)" uses lookaround or a backreference, which flanneld\'s Go regexp does not support',
      'error --iface-regex: --iface-regex "([" is not a regular expression: Invalid regular expression: /([/: Unterminated character class',
      'error --image-registry: image registry "https://mirror" is not a registry host (host[:port][/path], path in lower case, no scheme)',
    ],
  );
});

test('an IP address is a valid --iface', () => {
  assert.deepEqual(summary({ iface: ['192.168.1.10'] }), []);
});

test('unknown backend preset', () => {
  assert.deepEqual(summary({ backend: 'geneve' as never }), ['error --backend: unknown backend "geneve"']);
});

test('--mtu with host-gw is a problem, not a crash', () => {
  assert.deepEqual(summary({ backend: 'host-gw', mtu: 1400 }), [
    'error --mtu: --mtu does not apply to the host-gw backend',
  ]);
  assert.deepEqual(summary({ backend: 'vxlan', mtu: 40 }), [
    'error net-conf.json: Backend.MTU: Backend.MTU 40 is out of range 68..65535',
  ]);
});

test('another flannel version warns that the cni plugin tag may not match', () => {
  assert.deepEqual(summary({ flannelVersion: 'v0.27.0' }), [
    'warning --cni-plugin-version: flannel-cni-plugin v1.9.1-flannel3 is the plugin released with flannel v0.28.9, not necessarily with v0.27.0',
  ]);
  assert.deepEqual(summary({ flannelVersion: 'v0.27.0', cniPluginVersion: 'v1.7.1-flannel1' }), []);
});

test("net-conf problems and node podCIDRs are included; field names can be the command's", () => {
  assert.deepEqual(
    summary(
      { network: '10.245.0.0/16', subnetLen: 31 },
      { nodes: [{ name: 'n1', podCIDRs: ['10.244.1.0/24'] }] },
    ),
    [
      'error node n1: spec.podCIDRs: Network 10.245.0.0/16 does not contain podCIDR 10.244.1.0/24 of node "n1": flanneld fails with "subnet \\"10.245.0.0/16\\" specified in the flannel net config doesn\'t contain \\"10.244.1.0/24\\" PodCIDR of the \\"n1\\" node"',
      // --kube-subnet-mgr (the manifest's): flanneld never runs CheckNetworkConfig, so only a warning.
      'warning net-conf.json: SubnetLen: SubnetLen 31 is too long: it must be /30 or shorter (flanneld: "SubnetLen must be less than /31"); flanneld ignores this with --kube-subnet-mgr (only etcd mode checks it)',
      'warning net-conf.json: SubnetLen: SubnetLen 31 is ignored with --kube-subnet-mgr: node "n1" uses its podCIDR 10.244.1.0/24 (/24)',
    ],
  );
  const [problem] = validateManifestOptions({ namespace: 'X' }, { fieldNames: { namespace: '-n' } });
  assert.equal(problem?.field, '-n');
});

test('image references and the registry follow the runtime grammar (distribution/reference)', () => {
  for (const ok of [
    'ghcr.io/flannel-io/flannel:v0.28.9',
    'mirror.local:5000/flannel/flannel-cni-plugin:v1.7.1-flannel1',
    'flannel/flannel@sha256:' + 'a'.repeat(64),
    'localhost/flannel:dev',
  ])
    assert.deepEqual(summary({ flannelImage: ok, cniPluginImage: ok }), [], ok);
  assert.deepEqual(summary({ imageRegistry: 'mirror.local:5000/team/' }), []);
  assert.deepEqual(
    summary({ flannelImage: 'ghcr.io/Flannel-IO/flannel:v1', cniPluginImage: 'x:y;rm -rf /' }),
    [
      'error --flannel-image: "ghcr.io/Flannel-IO/flannel:v1" is not a valid image reference (registry/path:tag or @sha256:digest, path in lower case)',
      'error --cni-plugin-image: "x:y;rm -rf /" is not a valid image reference (registry/path:tag or @sha256:digest, path in lower case)',
    ],
  );
  assert.equal(summary({ imageRegistry: 'mirror local' }).length, 1);
});

test('--iface names follow the kernel rules (dev_valid_name)', () => {
  for (const bad of ['.', '..', 'a'.repeat(16), 'eth\u0000', 'eth0\n'])
    assert.match(
      summary({ iface: [bad] }).join(),
      /is neither an interface name nor an IP address/,
      JSON.stringify(bad),
    );
  assert.deepEqual(summary({ iface: ['enp0s31f6', 'bond0.100', 'a'.repeat(15)] }), []);
});
