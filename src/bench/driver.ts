// One way of running the tools between the two nodes: pods on the pod network, or the nodes' own
// shells over SSH. measurePath runs the same tests through either, so the numbers compare.
import type { BenchPath } from './result.ts';
import type { NodeCpu } from './measure.ts';

export interface ToolRun {
  /** What the client printed (iperf3 -J or ping). */
  readonly output: string;
  readonly nodeCpu?: NodeCpu;
}

export interface PathDriver {
  readonly path: BenchPath;
  /** Starts what must run all along (the server pod); returns the address the client measures to. */
  setup(): Promise<string>;
  /** The client's address as seen so far (a pod's is known once one ran). */
  clientIP(): string | null;
  /** Runs one iperf3 client to completion (with a fresh server where one run needs one). */
  iperf3(args: readonly string[], what: string): Promise<ToolRun>;
  ping(args: readonly string[], what: string): Promise<ToolRun>;
}
