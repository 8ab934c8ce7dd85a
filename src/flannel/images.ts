// Image references per flannel version, with registry rewriting for air-gapped mirrors.
import { UsageError } from '../errors.ts';
import { FEATURE_SINCE, isAtLeast, normalizeFlannelVersion } from './flannel-version.ts';
import { resolveManifestOptions, type ManifestOptions } from './manifest-options.ts';

export interface FlannelImages {
  flannel: string;
  cniPlugin: string;
}

/** The images a manifest with these options runs. */
export const flannelImages = (options: ManifestOptions): FlannelImages => {
  const version = normalizeFlannelVersion(options.flannelVersion);
  const prefix = isAtLeast(version, FEATURE_SINCE.ghcrImages) ? 'ghcr.io/flannel-io' : 'docker.io/flannel';
  const registry = options.imageRegistry;
  const pick = (override: string | undefined, image: string): string =>
    override ?? (registry ? rewriteRegistry(image, registry) : image);
  return {
    flannel: pick(options.flannelImage, `${prefix}/flannel:${version}`),
    cniPlugin: pick(options.cniPluginImage, `${prefix}/flannel-cni-plugin:${options.cniPluginVersion}`),
  };
};

/** Image references in manifest order (cni plugin, then flannel), for `--print-images`. */
export const listImages = (options: Partial<ManifestOptions> = {}): string[] => {
  const images = flannelImages(resolveManifestOptions(options));
  return [...new Set([images.cniPlugin, images.flannel])];
};

/**
 * Replaces the registry of `image` with `registry` (which may carry a path):
 * ghcr.io/flannel-io/flannel:v0.28.9 + mirror.local:5000 -> mirror.local:5000/flannel-io/flannel:v0.28.9.
 * An image without a registry host (flannel/flannel) is a Docker Hub image: the whole path is kept.
 */
export const rewriteRegistry = (image: string, registry: string): string => {
  const target = registry.replace(/\/+$/, '');
  if (target === '' || /\s/.test(target) || target.includes('://')) {
    throw new UsageError(
      `image registry "${registry}" is not a registry host`,
      'give a host with an optional port and path, such as mirror.example.com:5000/flannel',
    );
  }
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const path = hasHost ? image.slice(slash + 1) : image;
  return `${target}/${path}`;
};
