// vxlan (pkg/backend/vxlan): flannel.<VNI> reused when compatible (its MTU never changed), its /32
// address, and per vxlan peer either a direct route (DirectRouting and the peer on-link) or
// ARP + FDB + an onlink route via flannel.<VNI>. Peers of other types are ignored, their entries kept.
import { expectedFlannelMtu } from '../../flannel/mtu.ts';
import type { VxlanBackend as VxlanConf } from '../../flannel/net-conf.ts';
import { subnetIp } from './addresses.ts';
import type { Backend, BackendContext, LeaseEvent } from './backend.ts';
import type { NlRoute } from './dataplane.ts';
import { errnoText } from './dataplane.ts';
import type { Lease, LeaseAttrs } from './lease.ts';
import { vtepMacOf, vxlanBackendData } from './lease.ts';

const SRC = 'vxlan_network.go';

export class VxlanBackend implements Backend {
  readonly type = 'vxlan';
  private readonly vni: number;
  private readonly device: string;
  private linkIndex = 0;

  constructor(
    private readonly ctx: BackendContext,
    private readonly conf: VxlanConf,
  ) {
    this.vni = typeof conf.VNI === 'number' && conf.VNI > 0 ? conf.VNI : 1;
    this.device = `flannel.${this.vni}`;
  }

  async register(storedBackendData: string | undefined): Promise<LeaseAttrs> {
    const { log, dataplane, ext, publicIp } = this.ctx;
    const c = this.conf;
    log.info(
      'vxlan.go:141',
      `VXLAN config: VNI=${this.vni} Port=${c.Port ?? 0} GBP=${c.GBP === true} Learning=${c.Learning === true} DirectRouting=${c.DirectRouting === true}`,
    );
    const storedMac = storedBackendData ? vtepMacOf(storedBackendData) : undefined;
    if (storedMac) log.info('vxlan.go:170', `Interface flannel.${this.vni} mac address set to: ${storedMac}`);
    const link = await dataplane.ensureVxlan({
      name: this.device,
      vni: this.vni,
      local: ext.address,
      extIface: ext,
      port: typeof c.Port === 'number' ? c.Port : 0,
      gbp: c.GBP === true,
      learning: c.Learning === true,
      mtu: this.mtu(),
      ...(storedMac ? { mac: storedMac } : {}),
    });
    if (link.recreated)
      log.warning(
        'device.go:131',
        `"${this.device}" already exists with incompatible configuration: ${link.recreated}; recreating device`,
      );
    this.linkIndex = link.index;
    return { publicIp, backendType: 'vxlan', backendData: vxlanBackendData(this.vni, link.mac) };
  }

  async configure(subnet: string): Promise<void> {
    await this.ctx.dataplane.configureVxlan(this.device, `${subnetIp(subnet)}/32`);
  }

  mtu(): number {
    return expectedFlannelMtu(this.conf, this.ctx.ext.mtu)!;
  }

  /** ip.DirectRouting: `ip route get peer` is exactly one route and it has no gateway. */
  private async directRoutingOk(lease: Lease): Promise<boolean> {
    if (this.conf.DirectRouting !== true) return false;
    const r = await this.ctx.dataplane.routeGet(lease.publicIp);
    if (!r.ok) {
      this.ctx.log.error(SRC + ':196', `couldn't lookup route to ${lease.publicIp}: ${errnoText(r)}`);
      return false;
    }
    return r.routes.length === 1 && !r.routes[0]!.gw;
  }

  async handle(events: readonly LeaseEvent[]): Promise<void> {
    const { log } = this.ctx;
    for (const { type, lease } of events) {
      if (lease.backendType !== 'vxlan') {
        log.warning(
          `${SRC}:158`,
          `ignoring non-vxlan v4Subnet(${lease.subnet}) v6Subnet(<nil>): type=${lease.backendType}`,
        );
        continue;
      }
      const mac = vtepMacOf(lease.backendData);
      if (!mac) {
        log.error(`${SRC}:168`, `error decoding subnet lease JSON: ${lease.backendData}`);
        continue;
      }
      const vtep = subnetIp(lease.subnet);
      const vxlanRoute: NlRoute = {
        dst: lease.subnet,
        gw: vtep,
        dev: this.device,
        linkIndex: this.linkIndex,
        onlink: true,
      };
      const directRoute: NlRoute = { dst: lease.subnet, gw: lease.publicIp, linkIndex: 0 };
      const direct = await this.directRoutingOk(lease);
      if (type === 'added') await this.add(lease, mac, vtep, direct ? directRoute : undefined, vxlanRoute);
      else await this.remove(lease, mac, vtep, direct ? directRoute : undefined, vxlanRoute);
    }
  }

  private async add(
    lease: Lease,
    mac: string,
    vtep: string,
    directRoute: NlRoute | undefined,
    vxlanRoute: NlRoute,
  ): Promise<void> {
    const { log, dataplane } = this.ctx;
    if (directRoute) {
      const r = await dataplane.routeReplace(directRoute);
      if (!r.ok)
        log.error(
          `${SRC}:186`,
          `Error adding route to ${lease.subnet} via ${lease.publicIp}: ${errnoText(r)}`,
        );
      return;
    }
    const arp = await dataplane.neighReplace(this.device, vtep, mac);
    if (!arp.ok) {
      log.error(`${SRC}:193`, `AddARP failed: ${errnoText(arp)}`);
      return;
    }
    const fdb = await dataplane.fdbReplace(this.device, mac, lease.publicIp);
    if (!fdb.ok) {
      log.error(`${SRC}:198`, `AddFDB failed: ${errnoText(fdb)}`);
      await dataplane.neighDel(this.device, vtep, mac);
      return;
    }
    const route = await dataplane.routeReplace(vxlanRoute);
    if (!route.ok) {
      log.error(`${SRC}:210`, `failed to add vxlanRoute (${lease.subnet} -> ${vtep}): ${errnoText(route)}`);
      await dataplane.neighDel(this.device, vtep, mac);
      await dataplane.fdbDel(this.device, mac, lease.publicIp);
    }
  }

  private async remove(
    lease: Lease,
    mac: string,
    vtep: string,
    directRoute: NlRoute | undefined,
    vxlanRoute: NlRoute,
  ): Promise<void> {
    const { log, dataplane } = this.ctx;
    if (directRoute) {
      const r = await dataplane.routeDel(directRoute);
      if (!r.ok) log.error(`${SRC}:236`, `failed to delete directRoute (${lease.subnet}): ${errnoText(r)}`);
      return;
    }
    const arp = await dataplane.neighDel(this.device, vtep, mac);
    if (!arp.ok) log.error(`${SRC}:241`, `DelARP failed: ${errnoText(arp)}`);
    const fdb = await dataplane.fdbDel(this.device, mac, lease.publicIp);
    if (!fdb.ok) log.error(`${SRC}:245`, `DelFDB failed: ${errnoText(fdb)}`);
    const route = await dataplane.routeDel(vxlanRoute);
    if (!route.ok)
      log.error(
        `${SRC}:249`,
        `failed to delete vxlanRoute (${lease.subnet} -> ${vtep}): ${errnoText(route)}`,
      );
  }
}
