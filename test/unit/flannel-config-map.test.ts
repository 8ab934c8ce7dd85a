import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCniConf, readNetConf, withNetConf } from '../../src/flannel/config-map.ts';
import { renderManifest } from '../../src/flannel/manifest.ts';
import { withBackend } from '../../src/flannel/net-conf.ts';
import { selectorVariantOf } from '../../src/flannel/selector-variant.ts';
import type { KubeObject } from '../../src/flannel/kube-object.ts';

const kind = (objects: KubeObject[], k: string): KubeObject => objects.find((o) => o.kind === k)!;

test('reads and replaces net-conf.json of the ConfigMap, leaving cni-conf.json alone', () => {
  const cm = kind(renderManifest({ backend: 'vxlan' }), 'ConfigMap');
  const conf = readNetConf(cm);
  assert.equal(conf.Backend.Type, 'vxlan');
  const next = withNetConf(cm, withBackend(conf, { Type: 'host-gw' }));
  assert.equal(readNetConf(next).Backend.Type, 'host-gw');
  assert.deepEqual(readCniConf(next), readCniConf(cm));
  assert.deepEqual(next, kind(renderManifest({ backend: 'host-gw' }), 'ConfigMap'));
  assert.equal(readNetConf(cm).Backend.Type, 'vxlan', 'the input is not changed');
});

test('errors name the ConfigMap', () => {
  const cm: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' },
    data: { 'net-conf.json': '{"Network": }' },
  };
  assert.throws(() => readNetConf(cm), {
    message: /^ConfigMap kube-flannel\/kube-flannel-cfg net-conf\.json: invalid JSON at line 1, column 13/,
  });
  assert.throws(() => readCniConf(cm), {
    message: 'ConfigMap kube-flannel/kube-flannel-cfg has no cni-conf.json',
  });
});

test('detects the selector variant of an installed DaemonSet', () => {
  assert.equal(selectorVariantOf(kind(renderManifest(), 'DaemonSet')), 'documentation');
  assert.equal(
    selectorVariantOf(kind(renderManifest({ selectorVariant: 'release' }), 'DaemonSet')),
    'release',
  );
  const other: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'x' },
    spec: { selector: { matchLabels: { app: 'flannel', release: 'helm' } } },
  };
  assert.equal(selectorVariantOf(other), undefined);
});
