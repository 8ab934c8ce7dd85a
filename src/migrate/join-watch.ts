// Nodes that join while the DaemonSet rolls. Their flannel pod reads the ConfigMap already changed, so
// flanneld starts on the target backend from the first moment; peers still on the old backend ignore
// its lease ("Ignoring non-host-gw subnet" / "ignoring non-vxlan …", flannel
// pkg/backend/route_network.go, vxlan_network.go) and it ignores theirs, so pods there cannot reach
// those peers until they convert. flannelctl does nothing special for them: the rollout converts every
// old node, and the convergence check then holds the new node to the target like the others (its
// annotation, and every probed peer's route to its podCIDR). This watch only notices and reports them.
import type { KubeClient } from '../kube/client.ts';
import { ANNOTATIONS } from '../flannel/names.ts';

export interface JoinedNode {
  readonly node: string;
  /** Seconds after the restart when the node was first listed. */
  readonly seenAfterSeconds: number;
}

const POLL_MS = 1_000;

export class NodeJoinWatch {
  private readonly joined = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly kube: KubeClient,
    private readonly known: ReadonlySet<string>,
    private readonly since: () => number,
    private readonly intervalMs = POLL_MS,
  ) {}

  start(): void {
    const tick = () => {
      this.polling = this.poll().finally(() => {
        if (this.timer !== undefined) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  private async poll(): Promise<void> {
    try {
      const nodes = await this.kube.list('v1', 'Node');
      for (const n of nodes) {
        const name = n.metadata?.name;
        if (name && !this.known.has(name) && !this.joined.has(name)) this.joined.set(name, Date.now());
      }
      this.lastError = undefined;
    } catch (error) {
      // A failed list only delays noticing; the convergence check reads the nodes again anyway.
      this.lastError = (error as Error).message;
    }
  }

  /** Stops polling after one last look; the nodes that appeared, in order of appearance. */
  async stop(): Promise<{ joined: JoinedNode[]; error?: string }> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    await this.poll();
    const start = this.since();
    return {
      joined: [...this.joined].map(([node, at]) => ({
        node,
        seenAfterSeconds: Math.max(0, Math.round((at - start) / 100) / 10),
      })),
      ...(this.lastError ? { error: this.lastError } : {}),
    };
  }
}

/** What happened to a joined node, from its annotation as read after the rollout. */
export const describeJoined = (backendType: string | null, target: string): string =>
  backendType === target
    ? `joined during the rollout: its flannel pod read the new ConfigMap and started on ${target}; peers still on the old backend ignored it until they converted`
    : `joined during the rollout, but its ${ANNOTATIONS.backendType} is ${backendType ?? 'missing'}, not ${target}: its flannel pod has not started on the new configuration`;
