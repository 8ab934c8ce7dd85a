import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer, type ApiServer } from '../../src/sim/apiserver/index.ts';
import type { ClusterSeed, SeedNode } from '../../src/sim/cluster-seed.ts';

export interface SimCluster {
  readonly api: ApiServer;
  readonly kubeconfig: string;
  close(): Promise<void>;
}

export const seedNodes = (count: number, podBase = '10.244'): SeedNode[] =>
  Array.from({ length: count }, (_, i) => ({
    name: `node-${i + 1}`,
    internalIP: `192.168.77.${11 + i}`,
    podCIDR: `${podBase}.${i + 1}.0/24`,
  }));

/** An API emulator with a kubeconfig file pointing at it; close() removes both. */
export const startSimCluster = async (seed: ClusterSeed, readyDelayMs = 20): Promise<SimCluster> => {
  const api = await startApiServer({ seed, readyDelayMs });
  const dir = mkdtempSync(join(tmpdir(), 'flannelctl-sim-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
  return {
    api,
    kubeconfig,
    close: async () => {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
