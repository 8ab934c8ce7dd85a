// Validation of `install` options before anything is rendered or applied: the options
// themselves (names, versions, regexes), then the net-conf.json they produce.
import { DEFAULT_CNI_PLUGIN_VERSION, DEFAULT_FLANNEL_VERSION } from '../version.ts';
import { FlannelctlError } from '../errors.ts';
import { parseFlannelVersion } from './flannel-version.ts';
import { imageReferenceProblem, registryProblem } from './image-reference.ts';
import { buildNetConf } from './manifest.ts';
import {
  BACKEND_PRESETS,
  SELECTOR_VARIANTS,
  resolveManifestOptions,
  type ManifestOptions,
} from './manifest-options.ts';
import { parseIp } from './cidr.ts';
import type { Problem } from './problem.ts';
import { validateNetConf, type NodePodCidrs } from './validate-net-conf.ts';

export interface ValidateManifestOptionsContext {
  /** The cluster's nodes, when known: podCIDRs are checked against the network. */
  nodes?: readonly NodePodCidrs[];
  /** Planned node count when the nodes are not known. */
  nodeCount?: number;
  /** How problems name each option; default "--" + the option in kebab case ("--ip-masq"). */
  fieldNames?: Partial<Record<keyof ManifestOptions, string>>;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Go's regexp (RE2) has no lookaround and no backreferences; JavaScript accepts both.
const NOT_RE2 = /\(\?<?[=!]|\\[1-9]/;

const kebab = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Problems in the options and in the net-conf.json they render; empty when install can go ahead. */
export const validateManifestOptions = (
  options: Partial<ManifestOptions>,
  context: ValidateManifestOptionsContext = {},
): Problem[] => {
  const o = resolveManifestOptions(options);
  const field = (key: keyof ManifestOptions): string => context.fieldNames?.[key] ?? kebab(key);
  const problems: Problem[] = [];
  const error = (key: keyof ManifestOptions, message: string, fix: string): void => {
    problems.push({ severity: 'error', field: field(key), message, fix });
  };
  if (o.namespace.length > 63 || !DNS_LABEL.test(o.namespace)) {
    error(
      'namespace',
      `namespace "${o.namespace}" is not a valid Kubernetes name`,
      'use lower-case letters, digits and "-", e.g. kube-flannel',
    );
  }
  if (!(SELECTOR_VARIANTS as readonly string[]).includes(o.selectorVariant)) {
    error(
      'selectorVariant',
      `unknown selector variant "${o.selectorVariant}"`,
      `use one of: ${SELECTOR_VARIANTS.join(', ')}`,
    );
  }
  if (typeof o.backend === 'string' && !(BACKEND_PRESETS as readonly string[]).includes(o.backend)) {
    error('backend', `unknown backend "${o.backend}"`, `use one of: ${BACKEND_PRESETS.join(', ')}`);
    return problems;
  }
  let versionOk = true;
  try {
    parseFlannelVersion(o.flannelVersion);
  } catch (e) {
    versionOk = false;
    error('flannelVersion', (e as Error).message, 'use a flannel release tag such as v0.28.9');
  }
  if (
    versionOk &&
    o.flannelVersion.replace(/^v?/, 'v') !== DEFAULT_FLANNEL_VERSION &&
    o.cniPluginVersion === DEFAULT_CNI_PLUGIN_VERSION &&
    o.cniPluginImage === undefined
  ) {
    problems.push({
      severity: 'warning',
      field: field('cniPluginVersion'),
      message: `flannel-cni-plugin ${DEFAULT_CNI_PLUGIN_VERSION} is the plugin released with flannel ${DEFAULT_FLANNEL_VERSION}, not necessarily with ${o.flannelVersion}`,
      fix: `pass the cni plugin tag from the ${o.flannelVersion} manifest`,
    });
  }
  for (const name of o.iface) {
    // --iface takes an interface name or one of its IP addresses.
    // Linux dev_valid_name (net/core/dev.c): 1-15 bytes, not "." or "..", no '/', ':' or white space.
    if (
      !parseIp(name) &&
      (name === '' ||
        Buffer.byteLength(name) > 15 ||
        name === '.' ||
        name === '..' ||
        /[\s/:\p{Cc}]/u.test(name))
    ) {
      error(
        'iface',
        `"${name}" is neither an interface name nor an IP address`,
        'give a name such as eth1 (at most 15 characters) or the node IP of that interface',
      );
    }
  }
  for (const regex of o.ifaceRegex) {
    let message: string | undefined;
    try {
      new RegExp(regex);
      if (NOT_RE2.test(regex))
        message = `--iface-regex "${regex}" uses lookaround or a backreference, which flanneld's Go regexp does not support`;
    } catch (e) {
      message = `--iface-regex "${regex}" is not a regular expression: ${(e as Error).message}`;
    }
    if (message) error('ifaceRegex', message, 'use a plain RE2 pattern such as ^(eth|ens)[0-9]+$');
  }
  if (o.imageRegistry !== undefined) {
    const problem = registryProblem(o.imageRegistry);
    if (problem)
      error(
        'imageRegistry',
        problem,
        'give a host with an optional port and path, such as mirror.example.com:5000/flannel',
      );
  }
  for (const [key, ref] of [
    ['flannelImage', o.flannelImage],
    ['cniPluginImage', o.cniPluginImage],
  ] as const) {
    const problem = ref === undefined ? null : imageReferenceProblem(ref);
    if (problem) error(key, problem, 'give a full reference such as ghcr.io/flannel-io/flannel:v0.28.9');
  }
  let netConf;
  try {
    netConf = buildNetConf(o);
  } catch (e) {
    if (!(e instanceof FlannelctlError)) throw e;
    error('mtu', e.message, e.hint ?? 'remove --mtu');
    return problems;
  }
  problems.push(...validateNetConf(netConf, { nodes: context.nodes, nodeCount: context.nodeCount }));
  return problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
};
