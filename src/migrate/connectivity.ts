// Pod-network reachability between nodes, measured from the nodes themselves over the open node
// connections: each node pings pods on its peers by their pod IPs (from the API, src/kube/pod-targets.ts).
// That packet takes the node's route to the peer's podCIDR, the peer's ip_forward and FORWARD chain and
// its cni0 bridge to the pod's veth; the reply comes back the same way. A peer's cni0 address would not
// do: pinging it is local delivery on the peer, and a node without pods has no cni0 at all (the bridge
// CNI plugin creates it with the first pod: containernetworking/plugins plugins/main/bridge/bridge.go).
// Used once to verify and continuously to watch.
import { assertIpLiteral } from '../facts/probe-input.ts';
import type { PodTarget } from '../kube/pod-targets.ts';
import type { NodeExec, NodeTarget } from '../nodes/exec.ts';

export interface PingPeer {
  /** The peer node. */
  readonly name: string;
  /** A pod IP on that node, from the API. */
  readonly address: string;
  /** namespace/name of the pod, for messages. */
  readonly pod?: string;
}

export interface PairStats {
  readonly from: string;
  readonly to: string;
  readonly target: string;
  readonly pod?: string;
  sent: number;
  lost: number;
  /** Rounds in which the node could not be asked (connection lost): not counted as sent. */
  unmeasured: number;
}

/** What each node pings: up to `perPeer` pod IPs on every other node that has pods. */
export const podPingTargets = <N extends NodeTarget>(
  nodes: readonly N[],
  pods: ReadonlyMap<string, readonly PodTarget[]>,
  perPeer = Infinity,
): { node: N; peers: PingPeer[] }[] =>
  nodes.map((node) => ({
    node,
    peers: nodes
      .filter((peer) => peer.name !== node.name)
      .flatMap((peer) =>
        (pods.get(peer.name) ?? [])
          .slice(0, perPeer)
          .map((t) => ({ name: peer.name, address: t.ip, pod: `${t.namespace}/${t.name}` })),
      ),
  }));

/** One script per node: a ping per target, each validated as an IP literal first. */
export const pingScript = (peers: readonly PingPeer[], count = 1): string =>
  peers
    .map(
      (p) =>
        `ping -n -c ${count} -W 1${count > 1 ? ' -i 0.2' : ''} ${assertIpLiteral(p.address, `pod IP${p.pod ? ` of ${p.pod}` : ''} on ${p.name}`)}`,
    )
    .join('\n') + '\n';

/** Replies per target address from concatenated ping outputs; a target without statistics got none. */
export const parsePingReplies = (stdout: string, peers: readonly PingPeer[]): Map<string, number> => {
  const replies = new Map<string, number>();
  for (const peer of peers) {
    const escaped = peer.address.replace(/\./g, '\\.');
    const m = new RegExp(
      `--- ${escaped} ping statistics ---\\s*\\n(\\d+) packets transmitted, (\\d+) (?:packets )?received`,
    ).exec(stdout);
    replies.set(peer.address, m ? Number(m[2]) : 0);
  }
  return replies;
};

export interface RoundResult {
  readonly node: string;
  /** Replies per target address, or the reason the node could not be asked. */
  readonly replies?: Map<string, number>;
  readonly error?: string;
}

export const pingRound = async (
  exec: NodeExec,
  targets: readonly { node: NodeTarget; peers: readonly PingPeer[] }[],
  count: number,
): Promise<RoundResult[]> =>
  Promise.all(
    targets.map(async ({ node, peers }): Promise<RoundResult> => {
      if (peers.length === 0) return { node: node.name, replies: new Map() };
      try {
        const out = await exec.run(node, pingScript(peers, count), {
          timeoutMs: 5_000 + peers.length * 2_000 * count,
        });
        return { node: node.name, replies: parsePingReplies(out.stdout, peers) };
      } catch (error) {
        return { node: node.name, error: (error as Error).message };
      }
    }),
  );

export interface WatchSummary {
  readonly intervalMs: number;
  readonly rounds: number;
  readonly pairs: readonly PairStats[];
  readonly sent: number;
  readonly lost: number;
  /** Node connection problems seen while watching, one per node (or why the pods could not be read). */
  readonly errors: Readonly<Record<string, string>>;
  /** Nodes without pods: nothing on them to ping, so no pair toward them is watched. */
  readonly withoutPods: readonly string[];
}

/**
 * Pings every pair once per interval until stopped (a round starts only after the previous one ended, so
 * the rate stays bounded however slow the nodes answer).
 */
export class ConnectivityWatch {
  private readonly stats = new Map<string, PairStats>();
  private readonly errors: Record<string, string> = {};
  private rounds = 0;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly exec: NodeExec,
    private readonly targets: readonly { node: NodeTarget; peers: readonly PingPeer[] }[],
    readonly intervalMs = 1_000,
    private readonly withoutPods: readonly string[] = [],
    initialErrors: Readonly<Record<string, string>> = {},
  ) {
    Object.assign(this.errors, initialErrors);
    for (const t of targets)
      for (const p of t.peers)
        this.stats.set(`${t.node.name}>${p.address}`, {
          from: t.node.name,
          to: p.name,
          target: p.address,
          ...(p.pod ? { pod: p.pod } : {}),
          sent: 0,
          lost: 0,
          unmeasured: 0,
        });
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      await this.round();
      const wait = this.intervalMs - (Date.now() - started);
      if (wait > 0 && !this.stopped)
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, wait);
        });
    }
  }

  private async round(): Promise<void> {
    const results = await pingRound(this.exec, this.targets, 1);
    this.rounds++;
    for (const r of results) {
      const target = this.targets.find((t) => t.node.name === r.node)!;
      for (const peer of target.peers) {
        const s = this.stats.get(`${r.node}>${peer.address}`)!;
        if (!r.replies) {
          s.unmeasured++;
          continue;
        }
        s.sent++;
        if ((r.replies.get(peer.address) ?? 0) < 1) s.lost++;
      }
      if (r.error && !this.errors[r.node]) this.errors[r.node] = r.error;
    }
  }

  /** Stops after the round in flight, and returns the totals. */
  async stop(): Promise<WatchSummary> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    const pairs = [...this.stats.values()];
    return {
      intervalMs: this.intervalMs,
      rounds: this.rounds,
      pairs,
      sent: pairs.reduce((n, p) => n + p.sent, 0),
      lost: pairs.reduce((n, p) => n + p.lost, 0),
      errors: { ...this.errors },
      withoutPods: [...this.withoutPods],
    };
  }
}
