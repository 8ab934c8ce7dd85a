// Starts the API emulator for a test with client-node clients wired to it, and tears it down.
import type { TestContext } from 'node:test';
import { AppsV1Api, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { ClusterSeed, SeedNode } from '../../src/sim/cluster-seed.ts';
import type { ApiServer, ApiServerOptions } from '../../src/sim/apiserver/index.ts';
import { startApiServer } from '../../src/sim/apiserver/index.ts';

export const seedNodes = (count: number): SeedNode[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `node-${i + 1}`,
    internalIP: `192.168.77.${11 + i}`,
    podCIDR: `10.244.${i + 1}.0/24`,
  }));

export interface TestCluster {
  readonly server: ApiServer;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly rbac: RbacAuthorizationV1Api;
}

export const startTestCluster = async (
  t: TestContext,
  options: ApiServerOptions & { seed?: ClusterSeed } = {},
): Promise<TestCluster> => {
  const server = await startApiServer({ readyDelayMs: 20, seed: { nodes: seedNodes(3) }, ...options });
  t.after(() => server.close());
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return {
    server,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
  };
};

/** Polls `check` on the server's own clock of events until it holds (bounded, no timing assertion). */
export const eventually = async <T>(
  check: () => T | undefined | false,
  what: string,
  limitMs = 10_000,
): Promise<T> => {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

/** The Status body of a client-node ApiException. */
export const statusOf = (
  error: unknown,
): {
  code: number;
  reason: string;
  message: string;
  kind: string;
  status: string;
  details?: Record<string, unknown>;
} => {
  const body = (error as { body?: unknown }).body;
  return JSON.parse(typeof body === 'string' ? body : JSON.stringify(body)) as ReturnType<typeof statusOf>;
};
