// Every check in the order doctor runs and prints them: flannel itself, its config and node annotations,
// per-node state, then the data path (routes, L2, rp_filter, MTU), logs, kernel prerequisites and tuning
// last.
import { UsageError } from '../errors.ts';
import { annotationsCheck } from './annotations.ts';
import { backendConsistencyCheck } from './backend-consistency.ts';
import { configCheck } from './config.ts';
import { flannelHealthCheck } from './flannel-health.ts';
import { flannelLogsCheck } from './flannel-logs.ts';
import { hostGwCheck } from './host-gw.ts';
import { ipMasqCheck } from './ip-masq.ts';
import { kernelCheck } from './kernel.ts';
import { l2AdjacencyCheck } from './l2-adjacency.ts';
import { mixedWindowCheck } from './mixed-window.ts';
import { mtuCheck } from './mtu.ts';
import { podSandboxCheck } from './pod-sandbox.ts';
import { routesCheck } from './routes.ts';
import { rpFilterCheck } from './rp-filter.ts';
import { subnetEnvCheck } from './subnet-env.ts';
import { tuneCheck } from './tune.ts';
import type { Check } from './types.ts';

export const ALL_CHECKS: readonly Check[] = [
  flannelHealthCheck,
  configCheck,
  annotationsCheck,
  backendConsistencyCheck,
  subnetEnvCheck,
  ipMasqCheck,
  routesCheck,
  l2AdjacencyCheck,
  hostGwCheck,
  rpFilterCheck,
  mixedWindowCheck,
  mtuCheck,
  flannelLogsCheck,
  podSandboxCheck,
  kernelCheck,
  tuneCheck,
];

export const CHECK_IDS: readonly string[] = ALL_CHECKS.map((c) => c.id);

export interface CheckSelection {
  /** --checks: only these ids (in registry order). */
  readonly checks?: readonly string[];
  /** --skip: all but these ids. */
  readonly skip?: readonly string[];
}

/** Applies --checks/--skip; unknown ids are a usage error naming the valid ones. */
export const selectChecks = (selection: CheckSelection = {}, all: readonly Check[] = ALL_CHECKS): Check[] => {
  const ids = all.map((c) => c.id);
  for (const id of [...(selection.checks ?? []), ...(selection.skip ?? [])]) {
    if (!ids.includes(id)) throw new UsageError(`unknown check "${id}"`, `valid checks: ${ids.join(', ')}`);
  }
  return all.filter(
    (c) => (!selection.checks?.length || selection.checks.includes(c.id)) && !selection.skip?.includes(c.id),
  );
};
