import { UsageError } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { InstallFlags } from '../commands/install.ts';
import type { BackendPreset, ManifestOptions, SelectorVariant } from '../flannel/manifest-options.ts';
import { checkOutputPath } from '../files.ts';

export type InstallMode = 'print-images' | 'render' | 'diff' | 'apply';

export interface InstallRequest {
  readonly mode: InstallMode;
  /** Only what the user asked for; the rest comes from the live install or the defaults. */
  readonly given: Partial<ManifestOptions>;
  readonly outputFile?: string;
  readonly forceConflicts: boolean;
  readonly wait: boolean;
}

/** Flags to a request; conflicting flags are usage errors before anything else happens. */
export const installRequest = (flags: InstallFlags, globals: GlobalOptions): InstallRequest => {
  if (flags.outputFile) checkOutputPath(flags.outputFile, '--output-file');
  const modes = [
    flags.printImages && '--print-images',
    (flags.dryRun || flags.outputFile) && (flags.outputFile ? '--output-file' : '--dry-run'),
    flags.diff && '--diff',
  ].filter(Boolean);
  if (modes.length > 1) {
    throw new UsageError(`${modes.join(' and ')} cannot be combined`, 'choose one of them');
  }
  const mode: InstallMode = flags.printImages
    ? 'print-images'
    : flags.dryRun || flags.outputFile
      ? 'render'
      : flags.diff
        ? 'diff'
        : 'apply';
  const given: Partial<ManifestOptions> = {
    backend: flags.backend as BackendPreset | undefined,
    network: flags.network,
    ipv6Network: flags.ipv6Network,
    subnetLen: flags.subnetLen,
    subnetMin: flags.subnetMin,
    subnetMax: flags.subnetMax,
    enableNFTables: flags.enableNftables,
    mtu: flags.mtu,
    ipMasq: flags.ipMasq,
    hairpin: flags.hairpin,
    defaultGateway: flags.defaultGateway,
    iface: flags.iface.length ? flags.iface : undefined,
    ifaceRegex: flags.ifaceRegex.length ? flags.ifaceRegex : undefined,
    flannelVersion: flags.flannelVersion,
    cniPluginVersion: flags.cniPluginVersion,
    imageRegistry: flags.imageRegistry,
    flannelImage: flags.flannelImage,
    cniPluginImage: flags.cniPluginImage,
    selectorVariant: flags.selectorVariant as SelectorVariant | undefined,
    namespace: globals.namespace,
  };
  return {
    mode,
    given: Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    ...(flags.outputFile ? { outputFile: flags.outputFile } : {}),
    forceConflicts: Boolean(flags.forceConflicts),
    wait: flags.wait,
  };
};
