// Which manifest variant an installed DaemonSet came from. Its selector is immutable, so
// `install`/upgrades must render the same variant or `kubectl apply` fails with "field is immutable".
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from './kube-object.ts';
import type { SelectorVariant } from './manifest-options.ts';
import { APP_LABEL, K8S_APP_LABEL } from './names.ts';

/** 'documentation' for {app: flannel}, 'release' for {app, k8s-app}; undefined for anything else. */
export const selectorVariantOf = (daemonSet: KubeObject): SelectorVariant | undefined => {
  const spec = daemonSet.spec as
    { selector?: { matchLabels?: unknown; matchExpressions?: unknown } } | undefined;
  const selector = spec?.selector;
  if (!selector || (Array.isArray(selector.matchExpressions) && selector.matchExpressions.length > 0)) {
    return undefined;
  }
  if (isDeepStrictEqual(selector.matchLabels, { ...APP_LABEL })) return 'documentation';
  if (isDeepStrictEqual(selector.matchLabels, { ...APP_LABEL, ...K8S_APP_LABEL })) return 'release';
  return undefined;
};
