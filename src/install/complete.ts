// Fills in an install request: the user's flags first, then what the live install already says,
// then defaults; on a terminal it asks for what is still missing, elsewhere it says what to pass.
import { UsageError } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import { canPrompt, type Io } from '../io.ts';
import { contains, parseCidr, tryParseCidr, cidrText } from '../flannel/cidr.ts';
import {
  BACKEND_PRESETS,
  defaultManifestOptions,
  resolveManifestOptions,
  type BackendPreset,
  type ManifestOptions,
} from '../flannel/manifest-options.ts';
import { askInput, askSelect, type Choice } from '../prompts.ts';
import { backendLabel, settingsFromInstall } from './existing.ts';
import type { ClusterState } from './cluster-state.ts';
import type { InstallRequest } from './request.ts';

const BACKEND_CHOICES: readonly Choice<BackendPreset>[] = [
  {
    value: 'host-gw',
    name: 'host-gw',
    description: 'plain routes via each node, fastest; every node must share one L2 segment',
  },
  {
    value: 'vxlan',
    name: 'vxlan',
    description: 'VXLAN overlay, works across subnets; 50 bytes less MTU and more CPU',
  },
  {
    value: 'vxlan-directrouting',
    name: 'vxlan-directrouting',
    description: 'host-gw routes where nodes are adjacent, VXLAN elsewhere',
  },
  {
    value: 'wireguard',
    name: 'wireguard',
    description: 'encrypted tunnels between nodes; needs the WireGuard kernel module',
  },
];

export const completeOptions = async (
  request: InstallRequest,
  cluster: ClusterState | undefined,
  globals: GlobalOptions,
  io: Io,
): Promise<ManifestOptions> => {
  const given = request.given;
  const install = cluster?.install;
  const existing = install ? settingsFromInstall(install) : {};
  if (install && given.selectorVariant && given.selectorVariant !== existing.selectorVariant) {
    throw new UsageError(
      `--selector-variant ${given.selectorVariant} does not match daemonset ${install.namespace}/${install.daemonSet.metadata.name}, whose selector is ${existing.selectorVariant}`,
      'a DaemonSet selector is immutable: leave --selector-variant out to keep the live one',
    );
  }
  if (install && given.backend && existing.backend && backendLabel(existing.backend) !== given.backend) {
    throw new UsageError(
      `flannel in ${install.namespace} already runs the ${backendLabel(existing.backend)} backend; install will not switch backends of a live cluster`,
      `use \`flannelctl migrate --to ${given.backend}\`, which switches safely and verifies every node`,
    );
  }
  const interactive = canPrompt(io, globals.yes);
  const backend =
    given.backend ?? existing.backend ?? (interactive ? await askBackend(io) : missingBackend());
  const network = given.network ?? existing.network ?? (await chooseNetwork(cluster, interactive, io));
  return resolveManifestOptions({ ...existing, ...given, backend, network });
};

const askBackend = (io: Io) => askSelect(io, 'Flannel backend', BACKEND_CHOICES, 'host-gw');

const missingBackend = (): never => {
  throw new UsageError(
    '--backend is required for a new install',
    `choose one of ${BACKEND_PRESETS.join(', ')}; host-gw is fastest when all nodes share one L2 segment`,
  );
};

/**
 * The default 10.244.0.0/16 works when every node's podCIDR is inside it. Otherwise the cluster was
 * set up with another --cluster-cidr, and guessing would make flanneld fail on every node.
 */
const chooseNetwork = async (
  cluster: ClusterState | undefined,
  interactive: boolean,
  io: Io,
): Promise<string> => {
  const fallback = defaultManifestOptions().network;
  const podCIDRs = (cluster?.nodes ?? [])
    .flatMap((n) => n.podCIDRs)
    .filter((c) => tryParseCidr(c)?.family === 'ipv4');
  const outside = podCIDRs.filter((c) => !contains(parseCidr(fallback), parseCidr(c)));
  const suggestion = outside.length ? sixteenAround(outside[0]!) : fallback;
  if (interactive) {
    return askInput(io, 'Pod network CIDR (must contain every node podCIDR)', suggestion, (value) =>
      tryParseCidr(value)?.family === 'ipv4' ? true : 'enter an IPv4 CIDR such as 10.244.0.0/16',
    );
  }
  if (outside.length === 0) return fallback;
  throw new UsageError(
    `--network is required: node podCIDRs such as ${outside[0]} are outside the default ${fallback}`,
    `pass the cluster's pod CIDR (kube-controller-manager --cluster-cidr), e.g. --network ${suggestion}`,
  );
};

const sixteenAround = (podCIDR: string): string => {
  const cidr = parseCidr(podCIDR);
  const prefix = Math.min(16, cidr.prefix);
  const mask = ((1n << BigInt(prefix)) - 1n) << BigInt(32 - prefix);
  return cidrText(cidr.base & mask, prefix, 'ipv4');
};
