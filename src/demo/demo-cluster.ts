// The cluster the demo runs on: virtual nodes in this process (default), or real network namespaces
// with OpenSSH per node (--lab, root). Both are driven by the flannel agent emulator and reached
// through the same flags a real cluster needs.
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SimulatedFlannel } from '../sim/flannel-agent/seed.ts';

export type DemoBackend = 'vxlan' | 'host-gw';

export interface DemoCluster {
  readonly kind: 'virtual' | 'lab';
  readonly nodeNames: readonly string[];
  /** The nodes whose pod routes injectFaults() breaks (a restarted flanneld programs them again). */
  readonly brokenRouteNodes: readonly string[];
  /** Flags that point any flannelctl command at this cluster. */
  cliArgs(): string[];
  /** Two realistic faults: strict rp_filter on an asymmetric node, and a pod route lost on another. */
  injectFaults(): Promise<string[]>;
  /**
   * What doctor's fix line for a lost vxlan route says: delete the node's flannel pod so the DaemonSet
   * starts a new one, which programs every route again. Returns the equivalent kubectl command.
   */
  restartFlannelOn(node: string): Promise<string>;
  /**
   * Lab only: deletes the workload pods and creates them again, as their controller would after
   * `kubectl delete pod`; new sandboxes get the current FLANNEL_MTU. Returns the equivalent kubectl.
   */
  readonly recreateWorkloadPods?: () => Promise<string>;
  /** Writes kubeconfig, inventory.yaml, id_ed25519, known_hosts (and ssh_config) into dir. */
  writeAccessFiles(dir: string): string[];
  close(): Promise<void>;
}

export const startDemoCluster = async (options: {
  nodes: number;
  backend: DemoBackend;
  lab: boolean;
}): Promise<DemoCluster> => (options.lab ? startLabDemo(options) : startVirtualDemo(options));

const startVirtualDemo = async (options: { nodes: number; backend: DemoBackend }): Promise<DemoCluster> => {
  const { startVirtualCluster } = await import('../sim/virtual-cluster.ts');
  // flanneld re-adds a lost host-gw route every 10 s; the demo keeps that pace, so a fault stays visible.
  const cluster = await startVirtualCluster({
    nodes: options.nodes,
    backend: options.backend,
    routeCheckIntervalMs: 10_000,
  });
  const names = cluster.fleet.nodes.map((n) => n.hostname);
  return {
    kind: 'virtual',
    nodeNames: names,
    // The asymmetric NIC also carries node-3's route back to node-1's pods, as in the lab demo.
    brokenRouteNodes: [names[1]!, names[2]!],
    cliArgs: () => cluster.cliArgs(),
    injectFaults: async () => {
      const [first, second, third] = names;
      const podCidrOf = (name: string) =>
        cluster.fleet.nodes
          .find((n) => n.hostname === name)!
          .routes.find((r) => r.dev === 'cni0' && r.family === 'inet')?.dst;
      const asymmetric = cluster.node(third!);
      // A second uplink that carries the way back to node-1's pods: their packets arrive on the overlay
      // but the best route back leaves via eth1, which strict rp_filter drops (the reverse-path lookup
      // uses the best route, fib_frontend.c). A mere backup route with a higher metric would not.
      asymmetric.addLink({ name: 'eth1', kind: 'veth', peerIndex: 1001, peerNetnsId: 0 });
      asymmetric.addrAdd('eth1', '10.99.0.13/24');
      const firstPods = podCidrOf(first!);
      if (firstPods) {
        asymmetric.routeDel({ dst: firstPods });
        asymmetric.routeAdd({ dst: firstPods, gateway: '10.99.0.1', dev: 'eth1' });
      }
      for (const key of ['all', 'default', 'eth0', 'eth1', 'cni0', 'flannel.1']) {
        asymmetric.setSysctl(`net/ipv4/conf/${key}/rp_filter`, '1');
      }
      const lost = cluster.node(second!);
      const podCidr = podCidrOf(names.at(-1)!);
      if (podCidr) lost.routeDel({ dst: podCidr });
      return [
        `${third}: rp_filter strict (1) with a second NIC eth1 carrying the route back to ${first}'s pods (${firstPods})`,
        `${second}: its route to ${names.at(-1)}'s pods (${podCidr}) was deleted behind flannel's back`,
      ];
    },
    restartFlannelOn: (node) => restartFlannelPod(cluster.flannel, node),
    writeAccessFiles: (dir) => {
      const files = {
        kubeconfig: cluster.kubeconfig,
        'inventory.yaml': cluster.inventoryFile,
        id_ed25519: cluster.fleet.identityFile,
        known_hosts: cluster.fleet.knownHostsFile,
      };
      return copyAll(files, dir);
    },
    close: () => cluster.close(),
  };
};

const startLabDemo = async (options: { nodes: number; backend: DemoBackend }): Promise<DemoCluster> => {
  const { createLab } = await import('../lab/lab.ts');
  const { labCliArgs } = await import('../lab/cli-args.ts');
  const { startSimulatedFlannel } = await import('../sim/flannel-agent/seed.ts');
  const { injectDeletedRoute, injectStrictRpFilterAsymmetric } = await import('../lab/faults.ts');
  const { startPodRunner } = await import('../sim/pod-runner/index.ts');
  const { startWorkloadPods } = await import('../sim/workload-pods.ts');
  const lab = await createLab({ nodes: options.nodes, podsPerNode: 1 });
  let flannel: SimulatedFlannel | undefined;
  let runner: { close(): Promise<void> } | undefined;
  try {
    flannel = await startSimulatedFlannel({ lab, backend: options.backend, routeCheckIntervalMs: 10_000 });
    // Once flannel wrote subnet.env, a pod per node is created through the API and run through the real
    // CNI plugins, so it is in the API with its pod IP (what migrate pings) and cni0 appears with it.
    runner = startPodRunner({ api: flannel.api, lab });
    await startWorkloadPods(flannel.api, new Map(lab.nodes.map((n) => [n.name, 1])));
  } catch (error) {
    await runner?.close();
    await flannel?.close();
    await lab.destroy();
    throw error;
  }
  const podRunner = runner;
  const ssh = lab.ssh!;
  const inventory = join(lab.dir, 'inventory.yaml');
  writeFileSync(
    inventory,
    `nodes:\n${lab.nodes.map((n) => `  - name: ${n.name}\n    address: ${n.address}\n    podCIDR: ${n.podCidr}\n    ssh: { user: root }\n`).join('')}`,
  );
  const args = labCliArgs(lab, flannel.kubeconfig);
  return {
    kind: 'lab',
    nodeNames: lab.nodes.map((n) => n.name),
    // The lab's asymmetric NIC also carries node-3's route back to node-1's pods.
    brokenRouteNodes: [lab.nodes[1]!.name, lab.nodes[2]!.name],
    cliArgs: () => args,
    injectFaults: async () => {
      const [first, second, third] = lab.nodes;
      const last = lab.nodes.at(-1)!;
      await injectStrictRpFilterAsymmetric(lab, third!, first!);
      await injectDeletedRoute(second!, last.podCidr);
      return [
        `${third!.name}: rp_filter strict with a second NIC carrying the route back to ${first!.name}'s pods`,
        `${second!.name}: its route to ${last.name}'s pods (${last.podCidr}) was deleted behind flannel's back`,
      ];
    },
    restartFlannelOn: (node) => restartFlannelPod(flannel, node),
    recreateWorkloadPods: async () => {
      const { WORKLOAD_LABEL, WORKLOAD_NAMESPACE } = await import('../sim/workload-pods.ts');
      const selector = `app=${WORKLOAD_LABEL.app}`;
      const pods = flannel.api.list('pods', WORKLOAD_NAMESPACE, selector);
      for (const pod of pods) await deletePod(flannel, WORKLOAD_NAMESPACE, pod.metadata!.name!);
      await startWorkloadPods(flannel.api, new Map(lab.nodes.map((n) => [n.name, 1])));
      return `kubectl -n ${WORKLOAD_NAMESPACE} delete pods -l ${selector}   # their controller creates them again`;
    },
    writeAccessFiles: (dir) =>
      copyAll(
        {
          kubeconfig: flannel.kubeconfig,
          'inventory.yaml': inventory,
          id_ed25519: ssh.identityFile,
          known_hosts: ssh.knownHostsFile,
        },
        dir,
      ),
    close: async () => {
      await podRunner.close();
      await flannel.close();
      await lab.destroy();
    },
  };
};

/** Deletes the node's flannel pod through the API, as kubectl would, and waits for its replacement. */
const restartFlannelPod = async (flannel: SimulatedFlannel, node: string): Promise<string> => {
  const { waitForFlannelReady } = await import('../sim/flannel-agent/seed.ts');
  const pod = flannel.api
    .list('pods', flannel.namespace, 'app=flannel')
    .find((p) => (p.spec as { nodeName?: string } | undefined)?.nodeName === node);
  const name = pod?.metadata?.name;
  if (!name) throw new Error(`no flannel pod on ${node}`);
  await deletePod(flannel, flannel.namespace, name);
  await waitForFlannelReady(flannel.api, flannel.agents, [node], flannel.namespace);
  return `kubectl -n ${flannel.namespace} delete pod ${name}`;
};

/** Deletes a pod through the API, as kubectl would. */
const deletePod = async (flannel: SimulatedFlannel, namespace: string, name: string): Promise<void> => {
  const response = await fetch(`${flannel.api.url}/api/v1/namespaces/${namespace}/pods/${name}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${flannel.api.token}` },
  });
  if (!response.ok) throw new Error(`deleting pod ${namespace}/${name}: HTTP ${response.status}`);
};

const copyAll = (files: Record<string, string>, dir: string): string[] =>
  Object.entries(files).map(([name, from]) => {
    const to = join(dir, name);
    copyFileSync(from, to);
    // ssh refuses a private key others can read.
    chmodSync(to, name === 'id_ed25519' ? 0o600 : 0o644);
    return to;
  });
