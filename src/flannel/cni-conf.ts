// The cni-conf.json model: the conflist install-cni copies to /etc/cni/net.d/10-flannel.conflist.
// CNI is case-sensitive JSON; unknown keys are kept so a round trip changes nothing but layout.
import { UsageError } from '../errors.ts';
import { isPlainObject, parseJsonText } from './json-text.ts';

/** Passed to the bridge plugin; the flannel CNI plugin fills in what is omitted. */
export interface FlannelDelegate {
  hairpinMode?: boolean;
  isDefaultGateway?: boolean;
  /** Default: !FLANNEL_IPMASQ (from subnet.env). */
  ipMasq?: boolean;
  /** Default: FLANNEL_MTU. */
  mtu?: number;
  [key: string]: unknown;
}

export interface FlannelPlugin {
  type: 'flannel';
  delegate?: FlannelDelegate;
  [key: string]: unknown;
}

export interface PortmapPlugin {
  type: 'portmap';
  capabilities?: { portMappings?: boolean; [key: string]: unknown };
  [key: string]: unknown;
}

/** Any other chained plugin (bandwidth, tuning, ...), kept as written. */
export interface CniPlugin {
  type: string;
  [key: string]: unknown;
}

export interface CniConf {
  name: string;
  cniVersion: string;
  plugins: CniPlugin[];
  [key: string]: unknown;
}

/** Parses a conflist; throws a UsageError naming `source` when it is not one. */
export const parseCniConf = (text: string, source = 'cni-conf.json'): CniConf => {
  const raw = parseJsonText(text, source);
  if (!isPlainObject(raw)) throw new UsageError(`${source}: expected a JSON object`);
  if (!Array.isArray(raw.plugins)) {
    throw new UsageError(
      `${source}: "plugins" must be a list (a conflist)`,
      'flannel installs a conflist with the flannel and portmap plugins, as in the upstream manifest',
    );
  }
  for (const [index, plugin] of raw.plugins.entries()) {
    if (!isPlainObject(plugin) || typeof plugin.type !== 'string') {
      throw new UsageError(`${source}: plugins[${index}] must be an object with a "type"`);
    }
  }
  for (const key of ['name', 'cniVersion'] as const) {
    if (typeof raw[key] !== 'string') throw new UsageError(`${source}: "${key}" must be a string`);
  }
  return raw as CniConf;
};

/** Upstream layout: name, cniVersion, plugins (type first, then delegate/capabilities), 2-space indent. */
export const serializeCniConf = (conf: CniConf): string => {
  const { name, cniVersion, plugins, ...rest } = conf;
  const ordered = {
    name,
    cniVersion,
    plugins: plugins.map(({ type, delegate, capabilities, ...others }) => ({
      type,
      ...(delegate === undefined ? {} : { delegate: orderDelegate(delegate as FlannelDelegate) }),
      ...(capabilities === undefined ? {} : { capabilities }),
      ...others,
    })),
    ...rest,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
};

const orderDelegate = ({ hairpinMode, isDefaultGateway, ...rest }: FlannelDelegate): FlannelDelegate => ({
  ...(hairpinMode === undefined ? {} : { hairpinMode }),
  ...(isDefaultGateway === undefined ? {} : { isDefaultGateway }),
  ...rest,
});

export interface CniConfOptions {
  /** delegate.hairpinMode; default true. */
  hairpin?: boolean;
  /** delegate.isDefaultGateway; default true. */
  defaultGateway?: boolean;
  /** delegate.ipMasq; omitted by default, so the flannel CNI plugin uses !FLANNEL_IPMASQ. */
  ipMasq?: boolean;
}

/** The conflist of the upstream manifest for these settings. */
export const buildCniConf = (options: CniConfOptions = {}): CniConf => ({
  name: 'cbr0',
  cniVersion: '0.3.1',
  plugins: [
    {
      type: 'flannel',
      delegate: {
        hairpinMode: options.hairpin ?? true,
        isDefaultGateway: options.defaultGateway ?? true,
        ...(options.ipMasq === undefined ? {} : { ipMasq: options.ipMasq }),
      },
    },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
});

/** The flannel plugin of a conflist, if any. */
export const flannelPlugin = (conf: CniConf): FlannelPlugin | undefined =>
  conf.plugins.find((plugin): plugin is FlannelPlugin => plugin.type === 'flannel');

/** The portmap plugin of a conflist, if any. */
export const portmapPlugin = (conf: CniConf): PortmapPlugin | undefined =>
  conf.plugins.find((plugin): plugin is PortmapPlugin => plugin.type === 'portmap');

/**
 * Whether the bridge plugin masquerades a pod's traffic to every address outside the node's own pod
 * subnet, other nodes' pods included. The flannel CNI plugin (flannel-io/cni-plugin flannel_linux.go
 * doCmdAdd) passes the delegate's ipMasq when the key is present, else `!FLANNEL_IPMASQ`, i.e. true
 * when flanneld runs without --ip-masq; the bridge plugin then installs, per pod, `-d <pod subnet>
 * ACCEPT` and `! -d 224.0.0.0/4 MASQUERADE` (containernetworking/plugins
 * pkg/ip/ipmasq_iptables_linux.go SetupIPMasq).
 */
export const bridgeMasquerades = (delegate: FlannelDelegate | undefined, flanneldIpMasq: boolean): boolean =>
  delegate !== undefined && 'ipMasq' in delegate ? delegate.ipMasq === true : !flanneldIpMasq;
