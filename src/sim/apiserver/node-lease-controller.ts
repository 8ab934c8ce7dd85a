// Each node's kubelet heartbeat: a Lease named after the node in kube-node-lease, owned by the Node,
// renewed every 10 s: kubernetes pkg/kubelet/apis/config/v1beta1/defaults.go defaults
// NodeLeaseDurationSeconds to 40 and pkg/kubelet/kubelet.go renews at nodeLeaseRenewIntervalFraction
// (0.25) of it; the Lease's ownerReference is the Node (component-helpers apimachinery/lease), so it
// goes with it. `kubectl describe node` shows it under "Lease:".
import type { KubeObject } from '../cluster-seed.ts';
import type { Registry } from './registry.ts';
import { resourceByName } from './resources.ts';
import type { Store } from './store.ts';

const NODES = resourceByName('nodes');
const LEASES = resourceByName('leases');
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const LEASE_DURATION_SECONDS = 40;

/** RFC 3339 with microseconds, as metav1.MicroTime serialises. */
const microTime = (): string => new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export const startNodeLeaseController = (
  store: Store,
  registry: Registry,
  renewIntervalMs = (LEASE_DURATION_SECONDS * 1000) / 4,
): (() => void) => {
  const renew = (node: KubeObject): void => {
    const name = node.metadata!.name!;
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: LEASE_DURATION_SECONDS,
      renewTime: microTime(),
    };
    const existing = store.get(LEASES, NODE_LEASE_NAMESPACE, name);
    try {
      if (existing) {
        registry.update(LEASES, NODE_LEASE_NAMESPACE, name, { ...existing, spec }, { manager: 'kubelet' });
        return;
      }
      registry.create(
        LEASES,
        NODE_LEASE_NAMESPACE,
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name,
            namespace: NODE_LEASE_NAMESPACE,
            ownerReferences: [
              { apiVersion: 'v1', kind: 'Node', name, uid: node.metadata!.uid!, blockOwnerDeletion: false },
            ],
          },
          spec,
        },
        { manager: 'kubelet' },
      );
    } catch {
      /* the namespace or node went away meanwhile */
    }
  };
  const renewAll = () => {
    for (const node of store.list(NODES)) renew(node);
  };
  const timer = setInterval(renewAll, renewIntervalMs);
  timer.unref();
  renewAll();
  const unsubscribe = store.subscribe((event) => {
    if (event.resource !== NODES) return;
    const name = event.object.metadata!.name!;
    // Deferred: the store is still notifying other listeners of this event.
    if (event.type === 'ADDED') setImmediate(() => renew(event.object));
    if (event.type === 'DELETED')
      setImmediate(() => {
        // The garbage collector removes what the Node owned.
        if (store.get(LEASES, NODE_LEASE_NAMESPACE, name))
          try {
            registry.delete(LEASES, NODE_LEASE_NAMESPACE, name);
          } catch {
            /* already gone */
          }
      });
  });
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
};
