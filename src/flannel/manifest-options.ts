// What `install` can change in the rendered manifest. Commands map flags onto this plain object,
// validate it (validateManifestOptions) and render it (renderManifest).
import { DEFAULT_CNI_PLUGIN_VERSION, DEFAULT_FLANNEL_VERSION } from '../version.ts';
import { FLANNEL_NAMESPACE } from './names.ts';
import type { AnyBackend } from './net-conf.ts';

/** Backends `install --backend` offers by name. */
export const BACKEND_PRESETS = ['host-gw', 'vxlan', 'vxlan-directrouting', 'wireguard'] as const;
export type BackendPreset = (typeof BACKEND_PRESETS)[number];

/**
 * 'documentation': Documentation/kube-flannel.yml, DaemonSet selector {app: flannel}.
 * 'release': the kustomize-built release asset, selector {app: flannel, k8s-app: flannel}.
 * The selector is immutable: re-applying over an install of the other variant fails.
 */
export const SELECTOR_VARIANTS = ['documentation', 'release'] as const;
export type SelectorVariant = (typeof SELECTOR_VARIANTS)[number];

export interface ManifestOptions {
  /**
   * Namespace of the ServiceAccount, ConfigMap and DaemonSet. Default kube-flannel (a Namespace
   * object is rendered, labelled privileged). 'kube-system' is the pre-v0.19 layout: no Namespace.
   */
  namespace: string;
  /** Default 'documentation'. */
  selectorVariant: SelectorVariant;
  /** A preset name or a full Backend object (net-conf.json Backend). Default 'host-gw'. */
  backend: BackendPreset | AnyBackend;
  /** net-conf.json Network (IPv4). Default 10.244.0.0/16; must contain every node's podCIDR. */
  network: string;
  /** net-conf.json IPv6Network; setting it sets EnableIPv6 (dual stack). */
  ipv6Network?: string;
  /** net-conf.json SubnetLen/SubnetMin/SubnetMax (ignored by flanneld with --kube-subnet-mgr). */
  subnetLen?: number;
  subnetMin?: string;
  subnetMax?: string;
  /** net-conf.json EnableNFTables; default false. */
  enableNFTables: boolean;
  /** Backend.MTU for vxlan and wireguard; host-gw always uses the interface MTU. */
  mtu?: number;
  /**
   * flanneld --ip-masq (flanneld masquerades traffic leaving the pod network); default true. false
   * also renders cni-conf.json's delegate with "ipMasq": false, so nothing masquerades.
   */
  ipMasq: boolean;
  /** cni-conf.json delegate.hairpinMode; default true. */
  hairpin: boolean;
  /** cni-conf.json delegate.isDefaultGateway; default true. */
  defaultGateway: boolean;
  /** Extra flanneld --iface= args, in order. */
  iface: string[];
  /** Extra flanneld --iface-regex= args, in order. */
  ifaceRegex: string[];
  /** Flannel release whose manifest is rendered; the flannel image tag. */
  flannelVersion: string;
  /** flannel-cni-plugin image tag. */
  cniPluginVersion: string;
  /** Registry (host[:port][/path]) replacing the registry of the default images, for mirrors. */
  imageRegistry?: string;
  /** Full flannel image reference, used as is (imageRegistry does not apply). */
  flannelImage?: string;
  /** Full flannel-cni-plugin image reference, used as is (imageRegistry does not apply). */
  cniPluginImage?: string;
}

export const defaultManifestOptions = (): ManifestOptions => ({
  namespace: FLANNEL_NAMESPACE,
  selectorVariant: 'documentation',
  backend: 'host-gw',
  network: '10.244.0.0/16',
  enableNFTables: false,
  ipMasq: true,
  hairpin: true,
  defaultGateway: true,
  iface: [],
  ifaceRegex: [],
  flannelVersion: DEFAULT_FLANNEL_VERSION,
  cniPluginVersion: DEFAULT_CNI_PLUGIN_VERSION,
});

/** Defaults, overridden by every option that is set (undefined means "not given"). */
export const resolveManifestOptions = (options: Partial<ManifestOptions> = {}): ManifestOptions => {
  const resolved: Record<string, unknown> = { ...defaultManifestOptions() };
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) resolved[key] = value;
  }
  return resolved as unknown as ManifestOptions;
};
