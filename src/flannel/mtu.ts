// FLANNEL_MTU per backend (each backend's Network.MTU(), flannel-facts §5): what subnet.env
// and new pods' veths get on a node whose external interface has `linkMtu`.
import type { AnyBackend } from './net-conf.ts';

/** Bytes each backend's encapsulation adds (ipsec: +8 with UDPEncap). */
export const ENCAP_OVERHEAD = {
  'host-gw': 0,
  vxlan: 50,
  wireguard: 80,
  udp: 28,
  ipip: 20,
  ipsec: 77,
  ipsecUdpEncap: 85,
  alloc: 0,
  extension: 0,
} as const;

/**
 * The MTU flanneld writes to FLANNEL_MTU. vxlan and wireguard start from Backend.MTU when it is
 * set (0 means unset, as in Go). Undefined for backend types flanneld would not start.
 */
export const expectedFlannelMtu = (backend: AnyBackend, linkMtu: number): number | undefined => {
  const configured = (backend as { MTU?: unknown }).MTU;
  const base = typeof configured === 'number' && configured > 0 ? configured : linkMtu;
  switch (backend.Type) {
    case 'host-gw':
    case 'alloc':
    case 'extension':
      return linkMtu;
    case 'vxlan':
      return base - ENCAP_OVERHEAD.vxlan;
    case 'wireguard':
      return base - ENCAP_OVERHEAD.wireguard;
    case 'udp':
      return linkMtu - ENCAP_OVERHEAD.udp;
    case 'ipip':
      return linkMtu - ENCAP_OVERHEAD.ipip;
    case 'ipsec':
      return (backend as { UDPEncap?: unknown }).UDPEncap === true
        ? linkMtu - ENCAP_OVERHEAD.ipsecUdpEncap
        : linkMtu - ENCAP_OVERHEAD.ipsec;
    default:
      return undefined;
  }
};
