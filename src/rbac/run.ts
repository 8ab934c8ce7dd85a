// `flannelctl rbac`: prints the least-privilege RBAC a command needs; talks to no cluster.
import { UsageError } from '../errors.ts';
import { FLANNEL_NAMESPACE } from '../flannel/names.ts';
import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { buildRbacManifest } from './manifest.ts';
import type { RbacCommand } from './needs.ts';
import { rbacJson, rbacYaml } from './print.ts';

export interface RbacFlags {
  for: RbacCommand;
  serviceAccount: string;
  saNamespace: string;
  benchNamespace: string;
  nodeAccess: 'ssh' | 'kube-exec' | 'daemonset';
  benchMode?: 'pod' | 'host' | 'both';
}

export const runRbac = (flags: RbacFlags, globals: GlobalOptions, io: Io): void => {
  const namespace = globals.namespace ?? FLANNEL_NAMESPACE;
  if (flags.nodeAccess !== 'ssh' && flags.for !== 'doctor' && flags.for !== 'bench')
    throw new UsageError('--node-access applies only to --for doctor and --for bench');
  if (flags.benchMode !== undefined && flags.for !== 'bench')
    throw new UsageError('--bench-mode applies only to --for bench');
  const objects = buildRbacManifest({
    command: flags.for,
    serviceAccount: flags.serviceAccount,
    serviceAccountNamespace: flags.saNamespace,
    namespace,
    benchNamespace: flags.benchNamespace,
    nodeAccess: flags.nodeAccess,
    ...(flags.benchMode !== undefined ? { benchMode: flags.benchMode } : {}),
  });
  if (globals.output === 'json') {
    io.stdout.write(rbacJson(objects));
    return;
  }
  const user = `system:serviceaccount:${flags.saNamespace}:${flags.serviceAccount}`;
  io.stdout.write(
    rbacYaml(
      objects,
      ` Least privilege for \`flannelctl ${flags.for}\` (flannel namespace ${namespace}) as ${user}.\n` +
        ' Every write and exec is granted by a Role in its namespace only; the ClusterRole holds the rest.\n' +
        ' Pipe into `kubectl apply -f -`; the comment above each rule says why it is needed.',
    ),
  );
};
