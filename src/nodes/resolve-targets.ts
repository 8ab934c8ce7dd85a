// The small I/O wrapper around selectNodes: reads the inventory file and lists nodes from the API.
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { UsageError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { loadInventory } from './inventory.ts';
import { listApiNodes, selectNodes, type ApiNode, type NodeSelection } from './select.ts';

export type NodeTargetFlags = Pick<
  NodeAccessOptions,
  'nodes' | 'selector' | 'inventoryFile' | 'nodeAddress' | 'ssh'
>;

/**
 * With a cluster the API says which nodes exist (filtered by -l server-side); without one (pre-install
 * preflight) the inventory alone does.
 */
export const resolveNodeTargets = async (
  access: NodeTargetFlags,
  kube?: KubeClient,
  /** Nodes the caller already listed with access.selector, to save a second LIST. */
  listed?: readonly ApiNode[],
): Promise<NodeSelection> => {
  if (!kube && access.inventoryFile === undefined) {
    throw new UsageError(
      'no nodes to talk to: there is no cluster and no --inventory',
      'pass --inventory FILE',
    );
  }
  if (!kube && access.selector !== undefined) {
    throw new UsageError(
      '-l/--selector needs the cluster API to read node labels',
      'with --inventory alone, pick nodes with --nodes',
    );
  }
  const inventory =
    access.inventoryFile !== undefined ? await loadInventory(access.inventoryFile) : undefined;
  const apiNodes = kube ? (listed ?? (await listApiNodes(kube, access.selector))) : undefined;
  return selectNodes({
    ...(apiNodes ? { apiNodes } : {}),
    ...(inventory ? { inventory } : {}),
    ...(access.nodes ? { names: access.nodes } : {}),
    ...(access.nodeAddress ? { addressPreference: access.nodeAddress } : {}),
    ...(access.ssh.user !== undefined ? { sshUser: access.ssh.user } : {}),
    ...(access.ssh.port !== undefined ? { sshPort: access.ssh.port } : {}),
    ...(access.selector ? { selector: access.selector } : {}),
  });
};
