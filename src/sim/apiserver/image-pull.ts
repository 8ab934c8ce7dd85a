// Whether a container image can be pulled, and how kubelet and containerd say it when it cannot.
// The one failure modelled is one that holds everywhere: a registry under the reserved `.invalid` TLD
// never resolves (RFC 6761 §6.4), so the pull fails at the DNS lookup.
// - kubelet (pkg/kubelet/images/image_manager.go EnsureImageExists, types.go, events/event.go):
//   an unparsable reference is InvalidImageName (event InspectFailed, "Failed to apply default image tag
//   %q: couldn't parse image reference %q: invalid reference format"); a failed pull is event Normal
//   Pulling "Pulling image %q", then Warning Failed "Failed to pull image %q: <runtime error>" and the
//   waiting reason ErrImagePull with the runtime error as its message; while the image backoff runs,
//   Normal BackOff "Back-off pulling image %q" and ImagePullBackOff. kuberuntime_container.go
//   startContainer adds Warning Failed "Error: <reason>" each time.
// - containerd (CRI PullImage, the resolver's error chain): `failed to pull and unpack image "<ref>":
//   failed to resolve reference "<ref>": failed to do request: Head "https://<host>/v2/<repo>/manifests/
//   <tag>": dial tcp: lookup <host> on <resolver>: no such host`, with <ref> normalized (docker.io/library/
//   for short names, :latest added by kubelet's applyDefaultImageTag), sent as the gRPC status
//   `rpc error: code = Unknown desc = …`.
import { imageReferenceProblem } from '../../flannel/image-reference.ts';

/** The node's resolver as a typical node's resolv.conf names it (systemd-resolved's stub). */
const NODE_RESOLVER = '127.0.0.53:53';
const DEFAULT_DOMAIN = 'docker.io';

export type ImageFailure =
  | { readonly reason: 'InvalidImageName'; readonly message: string }
  | { readonly reason: 'ErrImagePull'; readonly message: string };

interface Reference {
  readonly domain: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** distribution/reference normalize.go splitDockerDomain, plus the tag and digest. */
const parse = (image: string): Reference => {
  const [nameAndTag, digest] = image.split('@') as [string, string | undefined];
  const lastSlash = nameAndTag.lastIndexOf('/');
  const colon = nameAndTag.lastIndexOf(':');
  const tag = colon > lastSlash ? nameAndTag.slice(colon + 1) : undefined;
  const name = tag === undefined ? nameAndTag : nameAndTag.slice(0, colon);
  const i = name.indexOf('/');
  const first = i < 0 ? '' : name.slice(0, i);
  const explicit = i >= 0 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  let domain = explicit ? first : DEFAULT_DOMAIN;
  let repository = explicit ? name.slice(i + 1) : name;
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !repository.includes('/')) repository = `library/${repository}`;
  return { domain, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
};

/** The registry host without its port (an IPv6 literal keeps its brackets). */
const hostOf = (domain: string): string => domain.replace(/:\d+$/, '');

/** Why pulling `image` fails on any node, or undefined when the pull is not modelled to fail. */
export const imagePullFailure = (image: string): ImageFailure | undefined => {
  if (imageReferenceProblem(image) !== null) {
    return {
      reason: 'InvalidImageName',
      message: `Failed to apply default image tag "${image}": couldn't parse image reference "${image}": invalid reference format`,
    };
  }
  const ref = parse(image);
  const host = hostOf(ref.domain).toLowerCase();
  if (host !== 'invalid' && !host.endsWith('.invalid')) return undefined;
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  const normalized = `${ref.domain}/${ref.repository}${tag ? `:${tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
  const manifest = `https://${ref.domain}/v2/${ref.repository}/manifests/${ref.digest ?? tag}`;
  return {
    reason: 'ErrImagePull',
    message: `rpc error: code = Unknown desc = failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}": failed to do request: Head "${manifest}": dial tcp: lookup ${hostOf(ref.domain)} on ${NODE_RESOLVER}: no such host`,
  };
};
