import { Command, Option } from 'commander';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { BACKEND_PRESETS, SELECTOR_VARIANTS } from '../flannel/manifest-options.ts';
import { collect, integer } from './flag-parsers.ts';

export interface InstallFlags {
  backend?: string;
  network?: string;
  ipv6Network?: string;
  subnetLen?: number;
  subnetMin?: string;
  subnetMax?: string;
  ipMasq?: boolean;
  hairpin?: boolean;
  defaultGateway?: boolean;
  mtu?: number;
  iface: string[];
  ifaceRegex: string[];
  enableNftables?: boolean;
  flannelVersion?: string;
  cniPluginVersion?: string;
  imageRegistry?: string;
  flannelImage?: string;
  cniPluginImage?: string;
  selectorVariant?: string;
  printImages?: boolean;
  dryRun?: boolean;
  outputFile?: string;
  diff?: boolean;
  forceConflicts?: boolean;
  wait: boolean;
}

export const installCommand = (io: Io): Command =>
  new Command('install')
    .description(
      'Install Flannel (or bring an existing install to the requested settings) and wait until every node runs it',
    )
    .addOption(
      new Option(
        '--backend <type>',
        'host-gw (fast, needs L2 between nodes), vxlan, vxlan-directrouting, wireguard',
      ).choices(BACKEND_PRESETS),
    )
    .option('--network <cidr>', 'pod network CIDR, must contain every node podCIDR (default 10.244.0.0/16)')
    .option('--ipv6-network <cidr>', 'IPv6 pod network CIDR (enables dual stack)')
    .option(
      '--subnet-len <bits>',
      'net-conf SubnetLen (flanneld ignores it with --kube-subnet-mgr)',
      integer('--subnet-len'),
    )
    .option('--subnet-min <ip>', 'net-conf SubnetMin')
    .option('--subnet-max <ip>', 'net-conf SubnetMax')
    .option(
      '--ip-masq',
      'flanneld masquerades traffic leaving the pod network; pod-to-pod keeps pod IPs (default)',
    )
    .option(
      '--no-ip-masq',
      'nothing masquerades: no flanneld --ip-masq and "ipMasq": false in the CNI delegate',
    )
    .option('--hairpin', 'CNI hairpin mode (default)')
    .option('--no-hairpin', 'disable CNI hairpin mode')
    .option('--default-gateway', 'cni0 is the pods default gateway (default)')
    .option('--no-default-gateway', 'cni0 is not the pods default gateway')
    .option(
      '--mtu <bytes>',
      'Backend.MTU for vxlan and wireguard (host-gw uses the interface MTU)',
      integer('--mtu'),
    )
    .addOption(
      new Option('--iface <name>', 'interface flanneld uses (repeatable)')
        .argParser(collect)
        .default([], 'none'),
    )
    .addOption(
      new Option('--iface-regex <regex>', 'interface regex flanneld uses (repeatable)')
        .argParser(collect)
        .default([], 'none'),
    )
    .option('--enable-nftables', 'use nftables instead of iptables (EnableNFTables)')
    .option('--flannel-version <version>', 'flannel release to install (default v0.28.9)')
    .option('--cni-plugin-version <version>', 'flannel-cni-plugin image tag')
    .option('--image-registry <registry>', 'mirror registry for all images (air-gapped clusters)')
    .option('--flannel-image <image>', 'full flannel image reference')
    .option('--cni-plugin-image <image>', 'full flannel-cni-plugin image reference')
    .addOption(
      new Option(
        '--selector-variant <variant>',
        'DaemonSet selector of a new install (an existing one is kept)',
      ).choices(SELECTOR_VARIANTS),
    )
    .option('--print-images', 'print the images the install uses and exit')
    .option('--dry-run', 'print the manifest instead of applying it (-o yaml|json); no cluster needed')
    .option('--output-file <file>', 'write the manifest to FILE instead of applying it (implies --dry-run)')
    .option(
      '--diff',
      'show how the live objects would change, apply nothing (exit 1 when they differ, like kubectl diff)',
    )
    .option('--force-conflicts', 'take over fields another field manager owns (server-side apply force)')
    .option('--no-wait', 'do not wait for the DaemonSet rollout')
    .addHelpText(
      'after',
      `
Examples:
  flannelctl install --backend host-gw                     install and wait for every node
  flannelctl install --backend host-gw --dry-run -o yaml   print the manifest for kubectl apply -f -
  flannelctl install --diff                                what would change on the live install
  flannelctl install --print-images --image-registry registry.local:5000`,
    )
    .action(async (_flags: InstallFlags, command: Command) => {
      const { runInstallCommand } = await import('../install/run.ts');
      await runInstallCommand(command.opts<InstallFlags>(), globalOptions(command), io);
    });
