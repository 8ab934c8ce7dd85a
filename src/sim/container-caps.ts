// The capabilities a container runtime gives a container, so the lab runs node-access pods with exactly
// what their spec grants: `setpriv` limits the bounding set (for uid 0 that is the effective set after
// exec) and sets no_new_privs as allowPrivilegeEscalation: false does. Seccomp and the read-only root
// filesystem are not emulated.
import type { KubeObject } from './cluster-seed.ts';

/** containerd's default set (containerd pkg/oci/spec.go defaultUnixCaps, without the CAP_ prefix). */
export const RUNTIME_DEFAULT_CAPS: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

const CAP_NAME = /^[A-Z_]{2,32}$/;
const bare = (cap: string): string => cap.toUpperCase().replace(/^CAP_/, '');

/** The container's capability names; undefined for a privileged container (every capability). */
export const containerCaps = (context: SecurityContext | undefined): string[] | undefined => {
  if (context?.privileged) return undefined;
  const drop = (context?.capabilities?.drop ?? []).map(bare);
  const add = (context?.capabilities?.add ?? []).map(bare);
  const base = drop.includes('ALL') ? [] : RUNTIME_DEFAULT_CAPS.filter((c) => !drop.includes(c));
  const caps = [...new Set([...base, ...add])];
  for (const cap of caps) if (!CAP_NAME.test(cap)) throw new Error(`not a capability name: ${cap}`);
  return caps;
};

/** `setpriv …` argv that runs the rest of the command as the container would; [] when privileged. */
export const containerPrivArgs = (pod: KubeObject, container: string): string[] => {
  const spec = pod.spec as { containers?: { name: string; securityContext?: SecurityContext }[] } | undefined;
  const context = spec?.containers?.find((c) => c.name === container)?.securityContext;
  const caps = containerCaps(context);
  if (!caps) return [];
  const bounding = ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
  return [
    'setpriv',
    `--bounding-set=${bounding}`,
    '--inh-caps=-all',
    '--ambient-caps=-all',
    ...(context?.allowPrivilegeEscalation === false ? ['--no-new-privs'] : []),
    '--',
  ];
};
