// Flannel release versions and the manifest changes that depend on them.
import { UsageError } from '../errors.ts';

/** First releases with each manifest change flannelctl renders per version (flannel-facts §1). */
export const FEATURE_SINCE = {
  /** Namespace kube-flannel instead of kube-system. */
  kubeFlannelNamespace: 'v0.19.0',
  /** Images under ghcr.io/flannel-io/* instead of docker.io/flannel/*. */
  ghcrImages: 'v0.26.4',
  /** CONT_WHEN_CACHE_NOT_READY env. */
  contWhenCacheNotReady: 'v0.27.1',
  /** install-cni runs /opt/bin/install-conf (atomic) instead of cp -f. */
  installConf: 'v0.28.6',
  /** --healthz-port=8081 with /healthz liveness and /readyz readiness probes. */
  healthz: 'v0.28.9',
} as const;

export type FlannelVersion = readonly [major: number, minor: number, patch: number];

/** Parses "v0.28.9" or "0.28.9" (a pre-release suffix such as "-rc1" is ignored for comparisons). */
export const parseFlannelVersion = (text: string): FlannelVersion => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?$/.exec(text);
  if (!match) {
    throw new UsageError(`flannel version "${text}" is not a release version`, 'use a tag such as v0.28.9');
  }
  return [Number(match[1]), Number(match[2]), Number(match[3])];
};

/** The image tag for a version: always with the leading "v", as flannel tags its images. */
export const normalizeFlannelVersion = (text: string): string => {
  parseFlannelVersion(text);
  return text.startsWith('v') ? text : `v${text}`;
};

/** Negative, zero or positive like a sort comparator. */
export const compareFlannelVersions = (a: string, b: string): number => {
  const [x, y] = [parseFlannelVersion(a), parseFlannelVersion(b)];
  for (let i = 0; i < 3; i++) {
    if (x[i] !== y[i]) return x[i]! - y[i]!;
  }
  return 0;
};

export const isAtLeast = (version: string, since: string): boolean =>
  compareFlannelVersions(version, since) >= 0;
