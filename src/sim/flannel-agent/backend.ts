// What a flanneld backend does for the agent: set up before the lease (RegisterNetwork), configure
// with the lease, report its MTU, and handle batches of lease events (Run); host-gw also reconciles.
import type { Dataplane, ExternalInterface } from './dataplane.ts';
import type { Klog } from './klog.ts';
import type { Lease, LeaseAttrs } from './lease.ts';

export interface LeaseEvent {
  readonly type: 'added' | 'removed';
  readonly lease: Lease;
}

export interface BackendContext {
  readonly dataplane: Dataplane;
  readonly log: Klog;
  readonly ext: ExternalInterface;
  /** The public IP flanneld announces (node-public-ip, else the interface address). */
  readonly publicIp: string;
}

export interface Backend {
  readonly type: string;
  /** Everything before AcquireLease; `storedBackendData` is this node's backend-data annotation. */
  register(storedBackendData: string | undefined): Promise<LeaseAttrs>;
  /** After AcquireLease, with this node's subnet. */
  configure(subnet: string): Promise<void>;
  /** FLANNEL_MTU. */
  mtu(): number;
  handle(events: readonly LeaseEvent[]): Promise<void>;
  /** The periodic check some backends run (host-gw: routeCheck). */
  reconcile?(): Promise<void>;
}
