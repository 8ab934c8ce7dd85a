// host-gw (pkg/backend/hostgw + route_network.go): a route per host-gw peer via its public IP on the
// external interface, routeAdd's replace-or-skip, an in-memory route list that routeCheck re-adds,
// and nothing ever removed from a previous backend (flannel.1 stays).
import type { Backend, BackendContext, LeaseEvent } from './backend.ts';
import type { NlRoute } from './dataplane.ts';
import { errnoText, formatNlRoute, routeEqual } from './dataplane.ts';
import type { Lease, LeaseAttrs } from './lease.ts';

const SRC = 'route_network.go';

export class HostGwBackend implements Backend {
  readonly type = 'host-gw';
  /** flanneld's n.v4Routes: every route learned from an event, kept even when adding it failed. */
  private readonly routes: NlRoute[] = [];

  constructor(private readonly ctx: BackendContext) {}

  register(): Promise<LeaseAttrs> {
    const { ext, publicIp } = this.ctx;
    if (ext.address !== publicIp) {
      return Promise.reject(
        new Error(
          "your PublicIP differs from interface IP, meaning that probably you're on a NAT, which is not supported by host-gw backend",
        ),
      );
    }
    return Promise.resolve({ publicIp, backendType: 'host-gw', backendData: 'null' });
  }

  configure(): Promise<void> {
    return Promise.resolve();
  }

  mtu(): number {
    return this.ctx.ext.mtu;
  }

  /** The route flanneld builds for a lease (GetRoute). */
  private routeFor(lease: Lease): NlRoute {
    return { dst: lease.subnet, gw: lease.publicIp, dev: this.ctx.ext.name, linkIndex: this.ctx.ext.index };
  }

  private remember(route: NlRoute): void {
    if (!this.routes.some((r) => routeEqual(r, route))) this.routes.push(route);
  }

  private forget(route: NlRoute): void {
    const at = this.routes.findIndex((r) => routeEqual(r, route));
    if (at >= 0) this.routes.splice(at, 1);
  }

  async handle(events: readonly LeaseEvent[]): Promise<void> {
    const { log, dataplane } = this.ctx;
    for (const { type, lease } of events) {
      if (lease.backendType !== this.type) {
        log.warning(`${SRC}:164`, `Ignoring non-host-gw subnet: type=${lease.backendType}`);
        continue;
      }
      const route = this.routeFor(lease);
      if (type === 'added') {
        log.info(`${SRC}:169`, `Subnet added: ${lease.subnet} via ${lease.publicIp}`);
        await this.routeAdd(route);
      } else {
        log.info(`${SRC}:181`, `Subnet removed: ${lease.subnet}`);
        this.forget(route);
        const r = await dataplane.routeDel(route);
        if (!r.ok) log.error(`${SRC}:186`, `Error deleting route to ${lease.subnet}: ${errnoText(r)}`);
      }
    }
  }

  /** routeAdd: replace a same-Dst route with another Gw/link, skip an equal one, log a refusal. */
  private async routeAdd(route: NlRoute): Promise<void> {
    const { log, dataplane } = this.ctx;
    this.remember(route);
    const sameDst = async () => (await dataplane.routeList()).filter((r) => r.dst === route.dst);
    let existing = await sameDst();
    if (existing[0] && !routeEqual(existing[0], route)) {
      log.warning(
        `${SRC}:203`,
        `Replacing existing route to ${formatNlRoute(existing[0])} with ${formatNlRoute(route)}`,
      );
      const del = await dataplane.routeDel(existing[0]);
      if (!del.ok) {
        log.error(`${SRC}:205`, `Error deleting route to ${existing[0].dst}: ${errnoText(del)}`);
        return;
      }
      this.forget(existing[0]);
      existing = await sameDst();
    }
    if (existing[0] && routeEqual(existing[0], route)) {
      log.info(`${SRC}:216`, `Route to ${formatNlRoute(route)} already exists, skipping.`);
      return;
    }
    const added = await dataplane.routeAdd(route);
    if (!added.ok)
      log.error(`${SRC}:218`, `Error adding route to ${formatNlRoute(route)}: ${errnoText(added)}`);
  }

  /** checkSubnetExistInV4Routes: re-add missing routes; errno failures stay silent, as in flanneld. */
  async reconcile(): Promise<void> {
    const { log, dataplane } = this.ctx;
    const present = await dataplane.routeList();
    for (const route of [...this.routes]) {
      if (present.some((r) => routeEqual(r, route))) continue;
      const r = await dataplane.routeAdd(route);
      if (r.ok) log.info(`${SRC}:131`, `Route recovered ${route.dst} : ${route.gw ?? '<nil>'}`);
    }
  }
}
