import type { GlobalOptions } from '../global-options.ts';
import type { KubeClient } from './client.ts';

/** Loads the client-node adapter on demand and checks the API answers before anything else. */
export const connectKube = async (globals: GlobalOptions, env: NodeJS.ProcessEnv): Promise<KubeClient> => {
  const { createClientNodeKube } = await import('./client-node.ts');
  const kube = createClientNodeKube({ kubeconfig: globals.kubeconfig, context: globals.context }, env);
  await kube.serverVersion();
  return kube;
};
