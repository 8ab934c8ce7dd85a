// What an existing install already says, so re-running `install` keeps the operator's settings
// (network, backend options, interface args) instead of silently resetting them to defaults.
import type { FlannelInstall } from '../kube/discover.ts';
import { parseCniConf, flannelPlugin } from '../flannel/cni-conf.ts';
import type { BackendPreset, ManifestOptions, SelectorVariant } from '../flannel/manifest-options.ts';
import { CNI_CONF_KEY, FLANNEL_CONTAINER_NAME, NET_CONF_KEY } from '../flannel/names.ts';
import { parseNetConf, type AnyBackend, type NetConf } from '../flannel/net-conf.ts';

interface ContainerLike {
  name: string;
  args?: string[];
}

/** The selector variant of a live DaemonSet; its selector is immutable, so new renders must match it. */
export const selectorVariantOf = (install: FlannelInstall): SelectorVariant =>
  install.daemonSet.spec?.selector?.matchLabels?.['k8s-app'] ? 'release' : 'documentation';

export const liveNetConf = (install: FlannelInstall): NetConf | undefined => {
  const text = install.configMap?.data?.[NET_CONF_KEY];
  return text === undefined
    ? undefined
    : parseNetConf(text, `configmap ${install.namespace}/${install.configMapName} ${NET_CONF_KEY}`);
};

/** A short name for a live backend: `vxlan-directrouting` for vxlan with DirectRouting. */
export const backendLabel = (backend: AnyBackend | BackendPreset): string =>
  typeof backend === 'string'
    ? backend
    : backend.Type === 'vxlan' && (backend as { DirectRouting?: boolean }).DirectRouting
      ? 'vxlan-directrouting'
      : backend.Type;

export const settingsFromInstall = (install: FlannelInstall): Partial<ManifestOptions> => {
  const settings: Partial<ManifestOptions> = {
    namespace: install.namespace,
    selectorVariant: selectorVariantOf(install),
  };
  const netConf = liveNetConf(install);
  if (netConf) {
    settings.network = netConf.Network;
    settings.backend = netConf.Backend;
    if (netConf.IPv6Network) settings.ipv6Network = netConf.IPv6Network;
    if (netConf.EnableNFTables !== undefined) settings.enableNFTables = netConf.EnableNFTables;
    if (netConf.SubnetLen !== undefined) settings.subnetLen = netConf.SubnetLen;
    if (netConf.SubnetMin !== undefined) settings.subnetMin = netConf.SubnetMin;
    if (netConf.SubnetMax !== undefined) settings.subnetMax = netConf.SubnetMax;
  }
  const cniText = install.configMap?.data?.[CNI_CONF_KEY];
  if (cniText !== undefined) {
    const delegate = flannelPlugin(parseCniConf(cniText))?.delegate;
    if (delegate?.hairpinMode !== undefined) settings.hairpin = delegate.hairpinMode;
    if (delegate?.isDefaultGateway !== undefined) settings.defaultGateway = delegate.isDefaultGateway;
  }
  const containers = (install.daemonSet.spec?.template?.spec as { containers?: ContainerLike[] } | undefined)
    ?.containers;
  const args = containers?.find((c) => c.name === FLANNEL_CONTAINER_NAME)?.args;
  if (args) {
    settings.ipMasq = args.includes('--ip-masq');
    const valuesOf = (flag: string) =>
      args.filter((a) => a.startsWith(`${flag}=`)).map((a) => a.slice(flag.length + 1));
    settings.iface = valuesOf('--iface');
    settings.ifaceRegex = valuesOf('--iface-regex');
  }
  return settings;
};
