// One flanneld process on one node, from pod start to stop: read net-conf.json once, sync the node
// informer, register the backend, AcquireLease, write subnet.env, CompleteLease, handle the initial
// leases, then become Ready (/readyz) and keep handling node events (and host-gw's routeCheck).
import type { KubeObject } from '../cluster-seed.ts';
import { readNetConf } from '../../flannel/config-map.ts';
import type { KubeObject as FlannelObject } from '../../flannel/kube-object.ts';
import { ANNOTATIONS, SUBNET_ENV_PATH } from '../../flannel/names.ts';
import type { NetConf, VxlanBackend as VxlanConf } from '../../flannel/net-conf.ts';
import { parseCidr } from '../../flannel/cidr.ts';
import { subnetGateway } from './addresses.ts';
import type { AgentApi, NodeEvent, NodeInformer } from './agent-api.ts';
import type { Backend, LeaseEvent } from './backend.ts';
import { HostGwBackend } from './backend-host-gw.ts';
import { VxlanBackend } from './backend-vxlan.ts';
import type { Dataplane } from './dataplane.ts';
import type { Klog } from './klog.ts';
import { internalIpOf, leaseAnnotationPatch, leaseChanged, nodeToLease, podCidrProblem } from './lease.ts';

export interface NodeAgentOptions {
  readonly nodeName: string;
  readonly api: AgentApi;
  readonly dataplane: Dataplane;
  /** Where the pod mounts its config from (the flannel-cfg volume). */
  readonly configMap: { readonly namespace: string; readonly name: string };
  /** flanneld --ip-masq. */
  readonly ipMasq: boolean;
  readonly routeCheckIntervalMs: number;
  readonly log: Klog;
}

/** FLANNEL_* lines in flanneld's order (WriteSubnetFile). */
export const subnetEnvText = (network: string, subnet: string, mtu: number, ipMasq: boolean): string =>
  `FLANNEL_NETWORK=${network}\nFLANNEL_SUBNET=${subnetGateway(subnet)}\nFLANNEL_MTU=${mtu}\nFLANNEL_IPMASQ=${ipMasq}\n`;

export class NodeAgent {
  /** Resolves when /readyz would answer 200; rejects when flanneld would exit. */
  readonly ready: Promise<void>;
  /** The backend type read from net-conf.json at start, once known. */
  backendType: string | undefined;
  private stopped = false;
  private informer: NodeInformer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backend: Backend | undefined;
  private running = false;
  private readonly nodes = new Map<string, KubeObject>();
  /** Every kernel change goes through this chain, so events and routeCheck never interleave. */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: NodeAgentOptions) {
    this.ready = this.run();
    this.ready.catch(() => undefined);
  }

  /** Stops watching and reconciling; the node's kernel state stays as it is, as when flanneld exits. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.informer?.stop();
    if (this.timer) clearInterval(this.timer);
    await this.chain.catch(() => undefined);
  }

  /** Resolves once every queued event has been handled. */
  idle(): Promise<void> {
    return this.chain.catch(() => undefined);
  }

  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await work();
      } catch (error) {
        this.o.log.error('main.go:529', `${(error as Error).message}`);
      }
    });
  }

  private fatal(source: string, text: string): never {
    this.o.log.error(source, text);
    this.stopped = true;
    this.informer?.stop();
    throw new Error(text);
  }

  private async run(): Promise<void> {
    const { log, nodeName, api, dataplane } = this.o;
    log.info(
      'main.go:211',
      `CLI flags config: {kubeSubnetMgr:true ipMasq:${this.o.ipMasq} subnetFile:${SUBNET_ENV_PATH} healthzPort:8081}`,
    );
    log.info('kube.go:139', 'Waiting 10m0s for node controller to sync');
    log.info('kube.go:469', 'Starting kube subnet manager');

    // net-conf.json is read once, here: later ConfigMap edits wait for the next pod.
    const { namespace, name } = this.o.configMap;
    const cm = await api.getConfigMap(namespace, name);
    if (!cm)
      this.fatal(
        'main.go:223',
        `Failed to create SubnetManager: error reading net conf: configmap "${name}" not found`,
      );
    let conf: NetConf;
    try {
      conf = readNetConf(cm as FlannelObject);
    } catch (error) {
      this.fatal(
        'main.go:223',
        `Failed to create SubnetManager: error parsing subnet config: ${(error as Error).message}`,
      );
    }
    const network = conf.Network ? parseCidr(conf.Network).text : '';
    // The install-cni init container ran before flanneld: the node's conflist is the ConfigMap's.
    const cniConf = (cm.data as Record<string, string> | undefined)?.['cni-conf.json'];
    if (cniConf !== undefined) await dataplane.installCniConf?.(cniConf);

    this.informer = api.watchNodes((event) => this.onNodeEvent(event));
    await this.informer.synced;
    if (this.stopped) throw new Error('stopped');
    log.info('kube.go:146', 'Node controller sync successful');
    log.info('main.go:231', `Created subnet manager: Kubernetes Subnet Manager - ${nodeName}`);
    log.info('main.go:234', 'Installing signal handlers');
    const type = conf.Backend?.Type ?? 'udp';
    this.backendType = type;
    log.info('main.go:452', `Found network config - Backend type: ${type}`);

    const own = this.nodes.get(nodeName);
    if (!own) this.fatal('main.go:331', `Failed to find node ${nodeName}`);
    const publicIp = own.metadata?.annotations?.[ANNOTATIONS.nodePublicIp] ?? internalIpOf(own) ?? '';
    const ext = await dataplane.externalInterface(publicIp);
    if (!ext)
      this.fatal(
        'main.go:250',
        `Failed to find any valid interface to use: failed to find interface with IP ${publicIp}`,
      );
    log.info('match.go:263', `Using interface with name ${ext.name} and address ${ext.address}`);
    log.info('match.go:285', `Defaulting external address to interface address (${ext.address})`);

    const ctx = { dataplane, log, ext, publicIp };
    if (type === 'vxlan') this.backend = new VxlanBackend(ctx, conf.Backend as VxlanConf);
    else if (type === 'host-gw') this.backend = new HostGwBackend(ctx);
    else this.fatal('main.go:329', `Error fetching backend: backend ${type} is not emulated`);
    const backend = this.backend;

    // RegisterNetwork: device first, then AcquireLease.
    let attrs;
    try {
      attrs = await backend.register(own.metadata?.annotations?.[ANNOTATIONS.backendData]);
    } catch (error) {
      this.fatal('main.go:370', `Error registering network: ${(error as Error).message}`);
    }
    const node = (await api.getNode(nodeName)) ?? own;
    if (!(node.spec as { podCIDR?: string } | undefined)?.podCIDR)
      this.fatal(
        'main.go:370',
        `Error registering network: failed to acquire lease: ${podCidrProblem(node, network)}`,
      );
    const patch = leaseAnnotationPatch(node, attrs);
    if (patch) await api.patchNodeStatus(nodeName, { metadata: { annotations: patch } });
    const problem = podCidrProblem(node, network);
    if (problem) this.fatal('main.go:370', `Error registering network: failed to acquire lease: ${problem}`);
    const subnet = parseCidr((node.spec as { podCIDR: string }).podCIDR).text;
    log.info('kube.go:510', `Creating the node lease for IPv4. This is the n.Spec.PodCIDRs: [${subnet}]`);
    await backend.configure(subnet);

    await dataplane.writeSubnetEnv(subnetEnvText(network, subnet, backend.mtu(), this.o.ipMasq));
    log.info('main.go:485', `Wrote subnet file to ${SUBNET_ENV_PATH}`);
    // CompleteLease: the NetworkUnavailable condition.
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await api.patchNodeStatus(nodeName, {
      status: {
        conditions: [
          {
            type: 'NetworkUnavailable',
            status: 'False',
            reason: 'FlannelIsUp',
            message: 'Flannel is running on this node',
            lastTransitionTime: now,
            lastHeartbeatTime: now,
          },
        ],
      },
    });
    log.info('main.go:489', 'Running backend.');
    log.info(
      type === 'vxlan' ? 'vxlan_network.go:65' : 'route_network.go:55',
      type === 'vxlan' ? 'watching for new subnet leases' : 'Watching for new subnet leases',
    );

    // The lease watcher's first batch: every other flannel node known now.
    const initial: LeaseEvent[] = [];
    for (const [n, obj] of this.nodes) {
      const lease = n === nodeName ? undefined : nodeToLease(obj);
      if (lease) initial.push({ type: 'added', lease });
    }
    this.running = true;
    this.enqueue(() => backend.handle(initial));
    await this.chain;
    if (this.stopped) throw new Error('stopped');
    if (backend.reconcile) {
      const check = backend.reconcile.bind(backend);
      this.timer = setInterval(() => this.enqueue(check), this.o.routeCheckIntervalMs);
      this.timer.unref();
    }
  }

  /** The informer's handlers (handleAdd/Update/DeleteLeaseEvent), feeding the lease watcher. */
  private onNodeEvent(event: NodeEvent): Promise<void> {
    const name = event.node.metadata!.name!;
    if (event.type === 'DELETED') this.nodes.delete(name);
    else this.nodes.set(name, event.node);
    if (!this.running || name === this.o.nodeName || !this.backend) return Promise.resolve();
    const lease = nodeToLease(event.node);
    if (!lease) return Promise.resolve();
    if (event.type === 'MODIFIED' && event.previous && !leaseChanged(event.previous, event.node))
      return Promise.resolve();
    const backend = this.backend;
    this.enqueue(() => backend.handle([{ type: event.type === 'DELETED' ? 'removed' : 'added', lease }]));
    return Promise.resolve();
  }
}
