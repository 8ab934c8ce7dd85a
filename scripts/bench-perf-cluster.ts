// Figure 3 and 4 of bench:perf: a host-gw cluster of many virtual nodes in the state flanneld leaves it
// in, written directly. Starting 1,000 flannel agent emulators is not possible in a bench: each agent
// watches every node over HTTP, so their start-up is ~2 million watch events and cannot converge
// within minutes on 2 cores. What doctor reads is the same: node annotations and NetworkUnavailable
// as flanneld writes them, flannel pods Ready, one route per peer via its public IP on eth0, and
// subnet.env (the e2e tests cover the same checks against clusters the agents programmed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANNOTATIONS, SUBNET_ENV_PATH } from '../src/flannel/names.ts';
import { startApiServer, type ApiServer } from '../src/sim/apiserver/index.ts';
import { flannelClusterSeed, flannelPodStates, virtualNodes } from '../src/sim/flannel-agent/seed.ts';
import { subnetEnvText } from '../src/sim/flannel-agent/node-agent.ts';
import { defaultNodeOptions, startVirtualFleet, type VirtualFleet } from '../src/sim/virtual-node/fleet.ts';
import { fleetCliArgs } from '../src/sim/virtual-cluster.ts';

export interface ConvergedCluster {
  readonly fleet: VirtualFleet;
  readonly api: ApiServer;
  cliArgs(): string[];
  close(): Promise<void>;
}

export const startConvergedHostGwCluster = async (count: number): Promise<ConvergedCluster> => {
  const specs = defaultNodeOptions(count, 'host-gw');
  const network = specs[0]?.clusterCIDR ?? '10.244.0.0/16';
  const fleet = await startVirtualFleet({ nodes: specs });
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-bench-'));
  let api: ApiServer | undefined;
  const close = async (): Promise<void> => {
    await api?.close();
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const nodes = virtualNodes(fleet.nodes);
    const seed = flannelClusterSeed(nodes, { backend: 'host-gw', network });
    api = await startApiServer({
      seed: {
        objects: seed.objects ?? [],
        nodes: seed.nodes.map((n) => ({
          ...n,
          // What AcquireLease and CompleteLease write (see node-agent.ts).
          annotations: {
            [ANNOTATIONS.backendType]: 'host-gw',
            [ANNOTATIONS.backendData]: 'null',
            [ANNOTATIONS.publicIp]: n.internalIP,
            [ANNOTATIONS.kubeSubnetManager]: 'true',
          },
          conditions: [
            {
              type: 'NetworkUnavailable',
              status: 'False',
              reason: 'FlannelIsUp',
              message: 'Flannel is running on this node',
            },
          ],
        })),
      },
      readyDelayMs: 10,
    });
    // host-gw's routes (RouteNetwork: dst = the peer's podCIDR, via its public IP on the external
    // interface) and subnet.env with eth0's MTU and --ip-masq, as the manifest passes it.
    for (const [i, node] of fleet.nodes.entries()) {
      for (const [j, peer] of nodes.entries()) {
        if (i !== j) node.routeAdd({ dst: peer.podCidr, gateway: peer.address, dev: 'eth0' });
      }
      const mtu = node.link('eth0')?.mtu ?? 1500;
      node.files.set(SUBNET_ENV_PATH, subnetEnvText(network, nodes[i]!.podCidr, mtu, true));
    }
    for (;;) {
      const states = flannelPodStates(api, 'kube-flannel');
      if (nodes.every((n) => states.get(n.name) === true)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const kubeconfig = join(dir, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    const cliArgs = fleetCliArgs(fleet, specs, kubeconfig, dir);
    return {
      fleet,
      api,
      cliArgs: () => cliArgs,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
};
