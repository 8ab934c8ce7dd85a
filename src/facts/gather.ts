// Gathers NodeFacts from many nodes: one probe script per node, one round trip each, a bounded number at
// once. A node that cannot be reached becomes a NodeAccessIssue; the others are still gathered.
import { InterruptedError, UsageError } from '../errors.ts';
import {
  NodeAccessError,
  describeTarget,
  type NodeAccessErrorKind,
  type NodeExec,
  type NodeTarget,
} from '../nodes/exec.ts';
import { Pool } from '../nodes/pool.ts';
import type { NodeFacts } from './node-facts.ts';
import { parseProbeOutput } from './probe-output.ts';
import { assertIpLiteral, isIpLiteral, newProbeNonce } from './probe-input.ts';
import { buildProbeScript } from './probe-script.ts';
import { splitSections } from './sections.ts';

/** Why a node's facts are missing: a transport failure, or a probe that printed nothing usable. */
export interface NodeAccessIssue {
  readonly node: string;
  readonly kind: NodeAccessErrorKind | 'probe-failed' | 'error';
  readonly message: string;
  readonly hint?: string;
}

export type NodeGatherResult =
  | { readonly node: string; readonly ok: true; readonly facts: NodeFacts }
  | { readonly node: string; readonly ok: false; readonly issue: NodeAccessIssue };

export type GatherProgress =
  | { readonly type: 'started'; readonly node: string }
  | { readonly type: 'done'; readonly node: string; readonly facts: NodeFacts }
  | { readonly type: 'failed'; readonly node: string; readonly issue: NodeAccessIssue };

export interface GatherOptions<T extends NodeTarget = NodeTarget> {
  /** Peer IPs to run `ip route get` for on this node; default: the other targets' IP addresses. */
  readonly peersFor?: (node: T) => readonly string[];
  /** Per node, bounds the probe command (connecting has its own timeout in the adapter). */
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** Ctrl-C: no new node is started, running probes are stopped and connections closed. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: GatherProgress) => void;
}

/** The address peers route to: SelectedNode.peerAddress when present, else an IP-literal address. */
const peerAddressOf = (node: NodeTarget): string | null => {
  const peer = (node as { peerAddress?: string | null }).peerAddress;
  if (peer !== undefined) return peer;
  return isIpLiteral(node.address) ? node.address : null;
};

/** SelectedNode.peerAddressV6 (the public-ipv6 annotation) under dual stack. */
const peerAddressV6Of = (node: NodeTarget): string | null =>
  (node as { peerAddressV6?: string }).peerAddressV6 ?? null;

/**
 * The other nodes' IP addresses: what flannel would route to from this node (never its own); their
 * IPv6 ones too where they have one, so IPv4-only clusters are probed exactly as before.
 */
export const otherNodeAddresses = (targets: readonly NodeTarget[], node: NodeTarget): string[] => {
  const own = [peerAddressOf(node), peerAddressV6Of(node)];
  return targets
    .filter((t) => t.name !== node.name)
    .flatMap((t) => [peerAddressOf(t), peerAddressV6Of(t)])
    .filter((a): a is string => a !== null && !own.includes(a));
};

const issueOf = (node: NodeTarget, error: unknown): NodeAccessIssue => {
  if (error instanceof NodeAccessError) {
    return {
      node: node.name,
      kind: error.kind,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
    };
  }
  return { node: node.name, kind: 'error', message: `${describeTarget(node)}: ${(error as Error).message}` };
};

const excerpt = (text: string): string => {
  const trimmed = text.trim().split('\n').slice(-3).join(' | ');
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
};

/**
 * Runs the probe on every target and returns one result per target, in target order. Throws
 * InterruptedError when the signal fires (after closing the adapter's connections), and UsageError
 * before any connection when a peer address is not an IP literal.
 */
export const gatherNodeFacts = async <T extends NodeTarget>(
  targets: readonly T[],
  exec: NodeExec,
  options: GatherOptions<T>,
): Promise<NodeGatherResult[]> => {
  const { signal, onProgress } = options;
  const peersFor = options.peersFor ?? ((node: T) => otherNodeAddresses(targets, node));
  // Every script is built (and every peer validated) before the first connection.
  const plans = targets.map((node) => {
    const nonce = newProbeNonce();
    const peers = peersFor(node).map((peer) => assertIpLiteral(peer, `peer address of ${node.name}`));
    return { node, nonce, script: buildProbeScript({ nonce, peers }) };
  });
  if (signal?.aborted) throw new InterruptedError();

  const pool = new Pool(options.concurrency);
  const onAbort = (): void => {
    // Stops in-flight sessions and handshakes; queued nodes are refused by the pool.
    void exec.close();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // A fan-out adapter (the DaemonSet) starts every node's probe at once; the pool then bounds the reads.
    exec.prepare?.(
      plans.map(({ node, script }) => ({ node, script })),
      { timeoutMs: options.timeoutMs, ...(signal ? { signal } : {}) },
    );
    // allSettled: when this returns or throws, nothing is still running on any node.
    const settled = await Promise.allSettled(
      plans.map(({ node, nonce, script }) =>
        pool.use(async (): Promise<NodeGatherResult> => {
          onProgress?.({ type: 'started', node: node.name });
          let result: NodeGatherResult;
          try {
            const out = await exec.run(node, script, {
              timeoutMs: options.timeoutMs,
              ...(signal ? { signal } : {}),
            });
            if (splitSections(out.stdout, nonce).size === 0) {
              // Nothing of the script ran (no sh, a forced command, a broken login shell).
              result = {
                node: node.name,
                ok: false,
                issue: {
                  node: node.name,
                  kind: 'probe-failed',
                  message: `${describeTarget(node)}: the probe printed no results (exit ${out.exitCode}${
                    out.stderr.trim() ? `: ${excerpt(out.stderr)}` : ''
                  })`,
                  hint: 'flannelctl needs a POSIX sh on the node and no ForceCommand for this user',
                },
              };
            } else {
              const facts = parseProbeOutput(node.name, out.stdout, nonce, { address: node.address });
              result = { node: node.name, ok: true, facts };
            }
          } catch (error) {
            if (signal?.aborted || error instanceof InterruptedError) throw new InterruptedError();
            // A bad key file or passphrase is the user's to fix, not one node's problem.
            if (error instanceof UsageError) throw error;
            result = { node: node.name, ok: false, issue: issueOf(node, error) };
          }
          onProgress?.(
            result.ok
              ? { type: 'done', node: node.name, facts: result.facts }
              : { type: 'failed', node: node.name, issue: result.issue },
          );
          return result;
        }, signal),
      ),
    );
    if (signal?.aborted) throw new InterruptedError();
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) throw failure.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<NodeGatherResult>).value);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
};
