// What an existing install already says, so re-running `install` keeps the operator's settings
// (network, backend options, interface args) instead of silently resetting them to defaults.
import { UsageError } from '../errors.ts';
import type { FlannelInstall } from '../kube/discover.ts';
import { flannelPlugin } from '../flannel/cni-conf.ts';
import { flanneldContainer, flanneldIpMasq } from '../flannel/flanneld-flags.ts';
import { readCniConf, readNetConf } from '../flannel/config-map.ts';
import type { BackendPreset, ManifestOptions, SelectorVariant } from '../flannel/manifest-options.ts';
import { CNI_CONF_KEY, FLANNEL_CONTAINER_NAME, NET_CONF_KEY } from '../flannel/names.ts';
import type { AnyBackend } from '../flannel/net-conf.ts';
import { selectorVariantOf } from '../flannel/selector-variant.ts';

/** A short name for a backend: `vxlan-directrouting` for vxlan with DirectRouting. */
export const backendLabel = (backend: AnyBackend | BackendPreset): string =>
  typeof backend === 'string'
    ? backend
    : backend.Type === 'vxlan' && (backend as { DirectRouting?: boolean }).DirectRouting
      ? 'vxlan-directrouting'
      : backend.Type;

/** The live DaemonSet's selector is immutable, so new renders must use the same variant. */
const liveSelectorVariant = (install: FlannelInstall): SelectorVariant => {
  const variant = selectorVariantOf(install.daemonSet);
  if (variant) return variant;
  throw new UsageError(
    `daemonset ${install.namespace}/${install.daemonSet.metadata.name} has selector ${JSON.stringify(install.daemonSet.spec?.selector)}, which no flannel manifest uses`,
    'a selector is immutable: delete and re-create the DaemonSet, or keep managing it with the tool that created it',
  );
};

export const settingsFromInstall = (install: FlannelInstall): Partial<ManifestOptions> => {
  const settings: Partial<ManifestOptions> = {
    namespace: install.namespace,
    selectorVariant: liveSelectorVariant(install),
  };
  const configMap = install.configMap;
  if (configMap?.data?.[NET_CONF_KEY] !== undefined) {
    const netConf = readNetConf(configMap);
    settings.network = netConf.Network;
    settings.backend = netConf.Backend;
    settings.ipv6Network = netConf.IPv6Network;
    settings.enableNFTables = netConf.EnableNFTables;
    settings.subnetLen = netConf.SubnetLen;
    settings.subnetMin = netConf.SubnetMin;
    settings.subnetMax = netConf.SubnetMax;
  }
  const delegate =
    configMap?.data?.[CNI_CONF_KEY] !== undefined
      ? flannelPlugin(readCniConf(configMap))?.delegate
      : undefined;
  settings.hairpin = delegate?.hairpinMode;
  settings.defaultGateway = delegate?.isDefaultGateway;
  const containers = (install.daemonSet.spec?.template?.spec as { containers?: unknown } | undefined)
    ?.containers;
  const container = flanneldContainer(containers);
  const flanneldMasq = container ? flanneldIpMasq(container) : null;
  // --ip-masq is flanneld's; with it hidden (a wrapper command), a delegate that says "ipMasq": false
  // is the other half of a --no-ip-masq install.
  settings.ipMasq = flanneldMasq ?? (delegate?.ipMasq === false ? false : undefined);
  const args =
    container?.name === FLANNEL_CONTAINER_NAME && Array.isArray(container.args)
      ? container.args.map(String)
      : undefined;
  if (args) {
    const valuesOf = (flag: string) =>
      args.filter((a) => a.startsWith(`${flag}=`)).map((a) => a.slice(flag.length + 1));
    settings.iface = valuesOf('--iface');
    settings.ifaceRegex = valuesOf('--iface-regex');
  }
  // undefined means "the live install does not say": defaults apply.
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
};
