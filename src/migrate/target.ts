// What "--to host-gw" or "--to vxlan [--direct-routing]" means for net-conf.json, and how a backend is
// named in messages and in the state annotation (vxlan+directrouting for the hybrid).
import type { AnyBackend, NetConf } from '../flannel/net-conf.ts';

export type TargetBackend = 'host-gw' | 'vxlan';

export interface MigrationTarget {
  readonly type: TargetBackend;
  readonly directRouting: boolean;
}

/** The Backend object written for the target; vxlan keeps the VNI/Port it had, when it had them. */
export const targetBackend = (target: MigrationTarget, current: NetConf): AnyBackend => {
  if (target.type === 'host-gw') return { Type: 'host-gw' };
  const previous =
    current.Backend.Type === 'vxlan' ? (current.Backend as unknown as Record<string, unknown>) : {};
  const keep = Object.fromEntries(
    ['VNI', 'Port', 'GBP', 'MTU', 'Learning']
      .filter((k) => previous[k] !== undefined)
      .map((k) => [k, previous[k]]),
  );
  return { Type: 'vxlan', ...keep, ...(target.directRouting ? { DirectRouting: true } : {}) } as AnyBackend;
};

export const backendLabel = (backend: AnyBackend): string =>
  backend.Type === 'vxlan' && (backend as { DirectRouting?: unknown }).DirectRouting === true
    ? 'vxlan+directrouting'
    : backend.Type;

export const targetLabel = (target: MigrationTarget): string =>
  target.type === 'vxlan' && target.directRouting ? 'vxlan+directrouting' : target.type;

/** The running config already is the target (type and DirectRouting). */
export const isAtTarget = (conf: NetConf, target: MigrationTarget): boolean =>
  backendLabel(conf.Backend) === targetLabel(target);

export const parseTargetLabel = (label: string): MigrationTarget | undefined =>
  label === 'host-gw'
    ? { type: 'host-gw', directRouting: false }
    : label === 'vxlan'
      ? { type: 'vxlan', directRouting: false }
      : label === 'vxlan+directrouting'
        ? { type: 'vxlan', directRouting: true }
        : undefined;
