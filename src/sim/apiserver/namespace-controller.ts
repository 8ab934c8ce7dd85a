// What the service-account controller does for every new namespace: a `default` ServiceAccount.
import type { Registry } from './registry.ts';
import { resourceByName } from './resources.ts';
import type { Store } from './store.ts';

const NAMESPACES = resourceByName('namespaces');
const SERVICE_ACCOUNTS = resourceByName('serviceaccounts');

export const startNamespaceController = (store: Store, registry: Registry): (() => void) => {
  const ensure = (ns: string) => {
    if (!store.get(NAMESPACES, undefined, ns) || store.get(SERVICE_ACCOUNTS, ns, 'default')) return;
    registry.create(
      SERVICE_ACCOUNTS,
      ns,
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } },
      { manager: 'kube-controller-manager' },
    );
  };
  for (const ns of store.list(NAMESPACES)) ensure(ns.metadata!.name!);
  return store.subscribe((event) => {
    // Deferred: the store is still notifying other listeners of this event.
    if (event.resource === NAMESPACES && event.type === 'ADDED')
      setImmediate(() => ensure(event.object.metadata!.name!));
  });
};
