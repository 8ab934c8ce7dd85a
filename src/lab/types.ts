import type { NodeTarget } from '../nodes/exec.ts';

export interface LabSpec {
  /** Nodes on the main subnet, L2-adjacent through one switch. Default 3. */
  readonly nodes?: number;
  /** Nodes behind a router on a second subnet (not L2-adjacent to the others). Default 0. */
  readonly remoteNodes?: number;
  /** Pods per node that startPods() creates (once flannel wrote subnet.env). Default 1. */
  readonly podsPerNode?: number;
  /** A /24 for the nodes; default: the first free one from 192.168.77.0/24 up. */
  readonly subnet?: string;
  /** A /24 for the remote nodes; default: the next free one. */
  readonly remoteSubnet?: string;
  /** A default route on every node via the unused .1 of its subnet, as real nodes have. Default true. */
  readonly defaultRoute?: boolean;
  /** Start an OpenSSH server on every node. Default true. */
  readonly ssh?: boolean;
}

export interface LabPod {
  readonly name: string;
  readonly netns: string;
  readonly node: string;
  readonly address: string;
}

export interface LabNode {
  /** "node-1" … */
  readonly name: string;
  /** N in node-N, 10.244.N.0/24, 192.168.x.(10+N). */
  readonly index: number;
  readonly netns: string;
  readonly address: string;
  /** The /24 the node's eth0 is on. */
  readonly subnet: string;
  /** On the far side of the router. */
  readonly remote: boolean;
  readonly podCidr: string;
  /** cni0's address, the pods' gateway. */
  readonly gateway: string;
  /** The node's pods, created by addPod/startPods through CNI; none at first. */
  readonly pods: readonly LabPod[];
  /** Host directory bind-mounted as /run/flannel inside the node's sshd. */
  readonly runDir: string;
}

export interface LabSsh {
  readonly user: 'root';
  readonly identityFile: string;
  readonly knownHostsFile: string;
  /** "ssh-ed25519 AAAA…" per node name. */
  readonly hostKeys: Readonly<Record<string, string>>;
}

export interface Lab {
  /** Per-run prefix of every namespace and link name. */
  readonly prefix: string;
  /** Temp directory with keys, sshd configs and run dirs. */
  readonly dir: string;
  readonly nodes: readonly LabNode[];
  readonly subnet: string;
  readonly remoteSubnet?: string;
  /** The root namespace's address on the switch: the "operator workstation". */
  readonly managementAddress: string;
  readonly ssh?: LabSsh;
  /** Every namespace this lab created (for checks that nothing is left). */
  readonly namespaces: readonly string[];
  node(name: string): LabNode;
  /** A NodeTarget for the SSH adapter. */
  target(name: string): NodeTarget;
  /**
   * A pod on a node, created as kubelet does: a namespace, then CNI ADD through the node's conflist
   * (flannel → the real bridge plugin). Fails like kubelet's sandbox creation when flannel has not
   * written subnet.env or the conflist is missing.
   */
  addPod(node: string, options?: { name?: string }): Promise<LabPod>;
  /** CNI DEL and the namespace removed. */
  deletePod(pod: LabPod): Promise<void>;
  /** Tops every node up to `count` pods (default: the spec's podsPerNode); returns the new ones. */
  startPods(count?: number): Promise<LabPod[]>;
  /** Runs argv inside a namespace (node or pod); throws on a non-zero exit. */
  exec(netns: string, argv: readonly string[]): Promise<{ stdout: string; stderr: string }>;
  /** Same, returning the exit code instead of throwing. */
  tryExec(netns: string, argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Kills every process and deletes every namespace and link of this lab. Idempotent. */
  destroy(): Promise<void>;
}
