// What flannel's CNI plugin hands to its delegate (the bridge plugin) for one pod: its own netconf
// (the flannel entry of the conflist, with the list's name and cniVersion) combined with
// /run/flannel/subnet.env. A transcription of flannel-io/cni-plugin flannel.go (cmdAdd,
// loadFlannelSubnetEnv) and flannel_linux.go (doCmdAdd, getDelegateIPAM), so the lab builds exactly what
// a node builds and doctor can tell what a live install's delegate will do.
import { tryParseCidr } from './cidr.ts';

/** subnet.env as the CNI plugin reads it (flannel.go loadFlannelSubnetEnv): only these four keys. */
export interface CniSubnetEnv {
  readonly networks: readonly string[];
  readonly subnet?: string;
  readonly ipv6Networks: readonly string[];
  readonly ipv6Subnet?: string;
  readonly mtu?: number;
  readonly ipMasq?: boolean;
}

/** The flannel plugin's netconf as the runtime passes it (one entry of the conflist). */
export interface FlannelNetConf {
  readonly name: string;
  readonly cniVersion?: string;
  readonly subnetFile?: string;
  readonly dataDir?: string;
  readonly ipam?: Record<string, unknown>;
  readonly delegate?: Record<string, unknown>;
  readonly runtimeConfig?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export const DEFAULT_SUBNET_FILE = '/run/flannel/subnet.env';
export const DEFAULT_DATA_DIR = '/var/lib/cni/flannel';

export class CniPluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CniPluginError';
  }
}

/**
 * Parses subnet.env line by line as the plugin does (`KEY=value`, no quoting, no `export`); throws
 * the plugin's "<file> is missing …" error when a required key is absent.
 */
export const parseCniSubnetEnv = (text: string, file = DEFAULT_SUBNET_FILE): CniSubnetEnv => {
  const env: {
    networks: string[];
    subnet?: string;
    ipv6Networks: string[];
    ipv6Subnet?: string;
    mtu?: number;
    ipMasq?: boolean;
  } = { networks: [], ipv6Networks: [] };
  for (const line of text.split('\n')) {
    const cut = line.indexOf('=');
    const key = cut < 0 ? line : line.slice(0, cut);
    const value = cut < 0 ? '' : line.slice(cut + 1);
    if (key === 'FLANNEL_NETWORK') env.networks = [...new Set(value.split(','))];
    else if (key === 'FLANNEL_SUBNET') env.subnet = value;
    else if (key === 'FLANNEL_IPV6_NETWORK') env.ipv6Networks = [...new Set(value.split(','))];
    else if (key === 'FLANNEL_IPV6_SUBNET') env.ipv6Subnet = value;
    else if (key === 'FLANNEL_MTU') {
      if (!/^\d+$/.test(value))
        throw new CniPluginError(`strconv.ParseUint: parsing "${value}": invalid syntax`);
      env.mtu = Number(value);
    } else if (key === 'FLANNEL_IPMASQ') env.ipMasq = value === 'true';
  }
  const missing: string[] = [];
  if (env.networks.length === 0 && env.ipv6Networks.length === 0)
    missing.push('FLANNEL_NETWORK', 'FLANNEL_IPV6_NETWORK');
  if (env.subnet === undefined && env.ipv6Subnet === undefined)
    missing.push('FLANNEL_SUBNET', 'FLANNEL_IPV6_SUBNET');
  if (env.mtu === undefined) missing.push('FLANNEL_MTU');
  if (env.ipMasq === undefined) missing.push('FLANNEL_IPMASQ');
  if (missing.length > 0) throw new CniPluginError(`${file} is missing ${missing.join(', ')}`);
  return env;
};

/** The plugin's error when subnet.env cannot be read (flannel.go cmdAdd), as kubelet reports it. */
export const subnetEnvLoadError = (cause: string): string =>
  `failed to load flannel 'subnet.env' file: ${cause}. Check the flannel pod log for this node.`;

/** The network part of "10.244.1.1/24", as Go's net.ParseCIDR returns it (the plugin then String()s it). */
const networkOf = (cidr: string): string => {
  const parsed = tryParseCidr(cidr);
  if (!parsed) throw new CniPluginError(`invalid CIDR address: ${cidr}`);
  return parsed.text;
};

/**
 * The delegate netconf for one pod (flannel_linux.go doCmdAdd): type bridge unless set,
 * ipMasq = !FLANNEL_IPMASQ unless set, mtu = FLANNEL_MTU unless set, isGateway for bridge, the list's
 * cniVersion, and host-local IPAM over the node's subnet with a route to each flannel network.
 */
export const buildFlannelDelegate = (conf: FlannelNetConf, env: CniSubnetEnv): Record<string, unknown> => {
  const delegate: Record<string, unknown> = { ...(conf.delegate ?? {}) };
  if ('type' in delegate && typeof delegate.type !== 'string')
    throw new CniPluginError(`'delegate' dictionary, if present, must have (string) 'type' field`);
  if ('name' in delegate)
    throw new CniPluginError(`'delegate' dictionary must not have 'name' field, it'll be set by flannel`);
  if ('ipam' in delegate)
    throw new CniPluginError(`'delegate' dictionary must not have 'ipam' field, it'll be set by flannel`);
  if (conf.runtimeConfig) delegate.runtimeConfig = conf.runtimeConfig;
  delegate.name = conf.name;
  if (!('type' in delegate)) delegate.type = 'bridge';
  // "if flannel is not doing ipmasq, we should": the bridge plugin then masquerades pod traffic.
  if (!('ipMasq' in delegate)) delegate.ipMasq = !env.ipMasq;
  if (!('mtu' in delegate)) delegate.mtu = env.mtu;
  if (delegate.type === 'bridge' && !('isGateway' in delegate)) delegate.isGateway = true;
  if (conf.cniVersion) delegate.cniVersion = conf.cniVersion;

  const ipam: Record<string, unknown> = { ...(conf.ipam ?? {}) };
  if (!('type' in ipam)) ipam.type = 'host-local';
  const ranges: { subnet: string }[][] = [];
  if (env.subnet) ranges.push([{ subnet: networkOf(env.subnet) }]);
  if (env.ipv6Subnet) ranges.push([{ subnet: networkOf(env.ipv6Subnet) }]);
  ipam.ranges = ranges;
  const routes = Array.isArray(ipam.routes) ? [...(ipam.routes as unknown[])] : [];
  for (const network of [...env.networks, ...env.ipv6Networks]) routes.push({ dst: network });
  ipam.routes = routes;
  delegate.ipam = ipam;
  return delegate;
};
