import pkg from '../package.json' with { type: 'json' };

export const FLANNELCTL_VERSION: string = pkg.version;
/** The flannel release whose manifest `install` renders by default. */
export const DEFAULT_FLANNEL_VERSION = 'v0.28.9';
/** The flannel CNI plugin image tag shipped with DEFAULT_FLANNEL_VERSION. */
export const DEFAULT_CNI_PLUGIN_VERSION = 'v1.9.1-flannel3';
