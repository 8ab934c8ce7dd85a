// A kubeconfig both kubectl and @kubernetes/client-node 1.4 accept for the plain-http emulator.
import { writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** Context (and cluster) name; 'flannelctl-sim' by default. */
  readonly context?: string;
  readonly namespace?: string;
  readonly user?: string;
  /** Another user's bearer token (see ApiServer.addUser); the admin token by default. */
  readonly token?: string;
}

export const kubeconfigYaml = (url: string, token: string, o: KubeconfigOptions = {}): string => {
  const context = o.context ?? 'flannelctl-sim';
  const user = o.user ?? 'sim-admin';
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      // client-node 1.4 refuses an http:// server unless TLS verification is (nominally) off.
      clusters: [{ name: context, cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: user, user: { token } }],
      contexts: [
        {
          name: context,
          context: { cluster: context, user, ...(o.namespace ? { namespace: o.namespace } : {}) },
        },
      ],
      'current-context': context,
      preferences: {},
    },
    { version: '1.1' },
  );
};

export const writeKubeconfig = async (
  path: string,
  url: string,
  token: string,
  o: KubeconfigOptions = {},
): Promise<void> => {
  await writeFile(path, kubeconfigYaml(url, token, o), { mode: 0o600 });
};
