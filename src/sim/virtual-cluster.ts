// A whole simulated cluster in one process: virtual nodes answering over SSH, the API emulator, and
// flannel agents programming the nodes. `demo`, the end-to-end tests and the scale benchmark use it;
// cliArgs() are the flags that point any flannelctl command (or kubectl, via the kubeconfig) at it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startSimulatedFlannel, type SimulatedFlannel } from './flannel-agent/seed.ts';
import { defaultNodeOptions, startVirtualFleet, type VirtualFleet } from './virtual-node/fleet.ts';
import type { VirtualNodeOptions } from './virtual-node/create-node.ts';
import type { VirtualNode } from './virtual-node/model.ts';
import { startWorkloadPods } from './workload-pods.ts';

export interface VirtualClusterOptions {
  /** node-1 … node-N with default addresses, or each node's options. */
  readonly nodes: number | readonly VirtualNodeOptions[];
  readonly backend: 'host-gw' | 'vxlan' | 'vxlan-directrouting';
  readonly readyDelayMs?: number;
  readonly routeCheckIntervalMs?: number;
}

export interface VirtualCluster {
  readonly fleet: VirtualFleet;
  readonly flannel: SimulatedFlannel;
  readonly kubeconfig: string;
  /** Node name → SSH host/port (127.0.0.1) and the address peers route to. */
  readonly inventoryFile: string;
  node(name: string): VirtualNode;
  /** --kubeconfig, --inventory and SSH flags that trust exactly this cluster's host keys. */
  cliArgs(): string[];
  close(): Promise<void>;
}

export const startVirtualCluster = async (options: VirtualClusterOptions): Promise<VirtualCluster> => {
  // Nodes start as the CNI plugin would have left them for this backend (cni0 at the right MTU);
  // the flannel agents then program routes, neighbours and subnet.env.
  const state = options.backend === 'host-gw' ? 'host-gw' : 'vxlan';
  const specs = (typeof options.nodes === 'number' ? defaultNodeOptions(options.nodes) : options.nodes).map(
    (s) => ({
      ...s,
      backend: s.backend ?? state,
    }),
  );
  const fleet = await startVirtualFleet({ nodes: specs });
  let flannel: SimulatedFlannel;
  try {
    flannel = await startSimulatedFlannel({
      nodes: fleet.nodes,
      backend: options.backend,
      network: specs[0]?.clusterCIDR ?? '10.244.0.0/16',
      readyDelayMs: options.readyDelayMs ?? 10,
      routeCheckIntervalMs: options.routeCheckIntervalMs ?? 200,
      timeoutMs: 120_000,
    });
  } catch (error) {
    await fleet.close();
    throw error;
  }
  try {
    // Each node's pods (its veths on cni0) exist in the API too, Running with an address of the node's
    // podCIDR, so commands find them by pod IP as on a real cluster; a node with `pods: 0` has none.
    await startWorkloadPods(flannel.api, new Map(specs.map((s) => [s.name, s.pods ?? 1])));
  } catch (error) {
    await flannel.close();
    await fleet.close();
    throw error;
  }
  const cliArgs = fleetCliArgs(fleet, specs, flannel.kubeconfig, fleet.dir);
  const inventoryFile = cliArgs[cliArgs.indexOf('--inventory') + 1]!;
  return {
    fleet,
    flannel,
    kubeconfig: flannel.kubeconfig,
    inventoryFile,
    node: (name) => fleet.node(name),
    cliArgs: () => cliArgs,
    close: async () => {
      await flannel.close();
      await fleet.close();
    },
  };
};

/**
 * Writes the inventory (node name → SSH host/port on 127.0.0.1 and the address peers route to) and an
 * empty ssh config into dir, and returns the flags that point flannelctl at the fleet with exactly its
 * host keys trusted.
 */
export const fleetCliArgs = (
  fleet: VirtualFleet,
  specs: readonly Pick<VirtualNodeOptions, 'name' | 'address'>[],
  kubeconfig: string,
  dir: string,
): string[] => {
  const inventoryFile = join(dir, 'inventory.yaml');
  writeFileSync(
    inventoryFile,
    stringify({
      nodes: specs.map((s) => {
        const target = fleet.target(s.name);
        return {
          name: s.name,
          address: s.address,
          ssh: { host: target.address, port: target.port, user: 'root' },
        };
      }),
    }),
  );
  const sshConfig = join(dir, 'ssh_config');
  writeFileSync(sshConfig, '# empty: the simulated cluster needs no ssh config\n');
  return [
    '--kubeconfig',
    kubeconfig,
    '--inventory',
    inventoryFile,
    '--ssh-key',
    fleet.identityFile,
    '--ssh-known-hosts',
    fleet.knownHostsFile,
    '--ssh-config',
    sshConfig,
  ];
};
