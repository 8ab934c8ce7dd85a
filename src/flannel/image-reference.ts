// Container image references as the container runtime parses them: the grammar of
// github.com/distribution/reference (regexp.go), which containerd and CRI-O use. An install with a
// reference the runtime cannot parse would roll out a DaemonSet whose pods stay in InvalidImageName.

const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const ipv6Host = '\\[(?:[a-fA-F0-9:]+)\\]';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|${ipv6Host})(?::[0-9]+)?`;
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`;

const REFERENCE = new RegExp(`^(${name})(?::${tag})?(?:@${digest})?$`);
const REGISTRY = new RegExp(`^${domain}(?:/${pathComponent})*$`);
/** distribution/reference: NameTotalLengthMax. */
const NAME_MAX = 255;

/** Why `ref` is not an image reference a runtime accepts, or null when it is one. */
export const imageReferenceProblem = (ref: string): string | null => {
  const match = REFERENCE.exec(ref);
  if (!match)
    return `"${ref}" is not a valid image reference (registry/path:tag or @sha256:digest, path in lower case)`;
  if (match[1]!.length > NAME_MAX) return `image name in "${ref}" is longer than ${NAME_MAX} characters`;
  return null;
};

/** Why `registry` (a host with optional port and path) cannot prefix an image, or null. */
export const registryProblem = (registry: string): string | null =>
  REGISTRY.test(registry.replace(/\/+$/, ''))
    ? null
    : `image registry "${registry}" is not a registry host (host[:port][/path], path in lower case, no scheme)`;
