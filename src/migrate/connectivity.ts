// Pod-network reachability between nodes, measured from the nodes themselves over the open node
// connections: each node pings every peer's cni0 address (the .1 of the peer's podCIDR), which only
// answers when the pod route toward that peer works. Used once to verify and continuously to watch.
import { assertIpLiteral } from '../facts/probe-input.ts';
import { formatIp, tryParseCidr } from '../flannel/cidr.ts';
import type { NodeExec, NodeTarget } from '../nodes/exec.ts';

export interface PingPeer {
  readonly name: string;
  /** The peer's cni0 address (pod gateway), computed from its podCIDR. */
  readonly address: string;
}

export interface PairStats {
  readonly from: string;
  readonly to: string;
  readonly target: string;
  sent: number;
  lost: number;
  /** Rounds in which the node could not be asked (connection lost): not counted as sent. */
  unmeasured: number;
}

/** The .1 of an IPv4 podCIDR: what the bridge CNI plugin gives cni0. Null when the CIDR is unusable. */
export const podGateway = (podCIDR: string | null | undefined): string | null => {
  const cidr = podCIDR ? tryParseCidr(podCIDR) : undefined;
  if (!cidr || cidr.family !== 'ipv4' || cidr.prefix > 30) return null;
  return formatIp(cidr.base + 1n, 'ipv4');
};

/** One script per node: a ping per peer, each validated as an IP literal first. */
export const pingScript = (peers: readonly PingPeer[], count = 1): string =>
  peers
    .map(
      (p) =>
        `ping -n -c ${count} -W 1${count > 1 ? ' -i 0.2' : ''} ${assertIpLiteral(p.address, `cni0 address of ${p.name}`)}`,
    )
    .join('\n') + '\n';

/** Replies per target from concatenated ping outputs; a target without statistics got none. */
export const parsePingReplies = (stdout: string, peers: readonly PingPeer[]): Map<string, number> => {
  const replies = new Map<string, number>();
  for (const peer of peers) {
    const escaped = peer.address.replace(/\./g, '\\.');
    const m = new RegExp(
      `--- ${escaped} ping statistics ---\\s*\\n(\\d+) packets transmitted, (\\d+) (?:packets )?received`,
    ).exec(stdout);
    replies.set(peer.name, m ? Number(m[2]) : 0);
  }
  return replies;
};

export interface RoundResult {
  readonly node: string;
  /** Replies per peer, or the reason the node could not be asked. */
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
  /** Node connection problems seen while watching, one per node. */
  readonly errors: Readonly<Record<string, string>>;
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
  ) {
    for (const t of targets)
      for (const p of t.peers)
        this.stats.set(`${t.node.name}>${p.name}`, {
          from: t.node.name,
          to: p.name,
          target: p.address,
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
        const s = this.stats.get(`${r.node}>${peer.name}`)!;
        if (!r.replies) {
          s.unmeasured++;
          continue;
        }
        s.sent++;
        if ((r.replies.get(peer.name) ?? 0) < 1) s.lost++;
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
    };
  }
}
