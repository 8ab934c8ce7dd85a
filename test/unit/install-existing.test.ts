import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeMasquerades, flannelPlugin, parseCniConf } from '../../src/flannel/cni-conf.ts';
import { renderManifest } from '../../src/flannel/manifest.ts';
import type { KubeObject } from '../../src/flannel/kube-object.ts';
import type { ManifestOptions } from '../../src/flannel/manifest-options.ts';
import type { FlannelInstall } from '../../src/kube/discover.ts';
import { settingsFromInstall } from '../../src/install/existing.ts';

/** A live install as discover.ts returns it, made from a render of `options`, then edited. */
const liveInstall = (
  options: Partial<ManifestOptions>,
  edit: { args?: string[]; cniConf?: string } = {},
): FlannelInstall => {
  const objects = renderManifest({ backend: 'host-gw', ...options });
  const daemonSet = structuredClone(objects.find((o) => o.kind === 'DaemonSet')!) as KubeObject & {
    spec: { template: { spec: { containers: Array<{ name: string; args: string[] }> } } };
  };
  const configMap = structuredClone(objects.find((o) => o.kind === 'ConfigMap')!) as KubeObject & {
    data: Record<string, string>;
  };
  if (edit.args) daemonSet.spec.template.spec.containers[0]!.args = edit.args;
  if (edit.cniConf) configMap.data['cni-conf.json'] = edit.cniConf;
  return {
    namespace: 'kube-flannel',
    daemonSet: daemonSet as unknown as FlannelInstall['daemonSet'],
    configMap: configMap as unknown as FlannelInstall['configMap'],
    configMapName: 'kube-flannel-cfg',
  };
};

const cniConfOf = (objects: readonly KubeObject[]) =>
  (objects.find((o) => o.kind === 'ConfigMap') as unknown as { data: Record<string, string> }).data[
    'cni-conf.json'
  ]!;

test('re-rendering a --no-ip-masq install keeps it: no --ip-masq and "ipMasq": false', () => {
  const live = liveInstall({ ipMasq: false });
  const settings = settingsFromInstall(live);
  assert.equal(settings.ipMasq, false);
  const again = renderManifest({ backend: 'host-gw', ...settings });
  assert.equal(cniConfOf(again), (live.configMap as { data: Record<string, string> }).data['cni-conf.json']);
});

// The install older flannelctl made for --no-ip-masq: flanneld without --ip-masq and a delegate
// without ipMasq, so the flannel CNI plugin (cni-plugin flannel_linux.go) turns bridge ipMasq on.
test('an install without --ip-masq whose delegate would masquerade is re-rendered with "ipMasq": false', () => {
  const live = liveInstall({}, { args: ['--kube-subnet-mgr', '--healthz-port=8081'] });
  const liveDelegate = flannelPlugin(parseCniConf(cniConfOf([live.configMap as KubeObject])))?.delegate;
  assert.equal(bridgeMasquerades(liveDelegate, false), true);
  const settings = settingsFromInstall(live);
  assert.equal(settings.ipMasq, false);
  const delegate = flannelPlugin(
    parseCniConf(cniConfOf(renderManifest({ backend: 'host-gw', ...settings }))),
  )?.delegate;
  assert.equal(delegate?.ipMasq, false);
});

test('--ip-masq is read the way flanneld parses it, and the default install keeps it', () => {
  assert.equal(settingsFromInstall(liveInstall({})).ipMasq, true);
  assert.equal(
    settingsFromInstall(liveInstall({}, { args: ['-ip-masq=true', '--kube-subnet-mgr'] })).ipMasq,
    true,
  );
  assert.equal(
    settingsFromInstall(liveInstall({}, { args: ['--ip-masq', '--ip-masq=false', '--kube-subnet-mgr'] }))
      .ipMasq,
    false,
  );
});
