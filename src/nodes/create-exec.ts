// Builds the NodeExec a command uses from its parsed node-access flags. The SSH adapter (ssh2) is
// loaded on demand so commands that never talk to nodes, and --help, stay fast; kube-exec and daemonset
// need the API client and flannel's namespace and image, which the caller has already read.
import { randomBytes } from 'node:crypto';
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { UsageError } from '../errors.ts';
import { canPrompt, type Io } from '../io.ts';
import type { KubeClient } from '../kube/client.ts';
import type { NodeExec } from './exec.ts';

export interface CreateNodeExecDeps {
  readonly io: Io;
  /** --yes: never prompt (the passphrase then comes from FLANNELCTL_SSH_PASSPHRASE or ssh-agent). */
  readonly yes: boolean;
  /** kube-exec: the API, flannel's namespace and the flannel DaemonSet's image (the default pod image). */
  readonly kube?: KubeClient;
  readonly namespace?: string;
  readonly flannelImage?: string;
}

export const INSECURE_WARNING =
  'warning: --ssh-insecure-skip-host-key-check: node host keys are NOT verified; anyone on the network path can\n' +
  '  impersonate a node and see or change what flannelctl runs there as root. Use it only in a throwaway lab;\n' +
  '  otherwise add the keys to known_hosts (ssh-keyscan, then compare fingerprints) or use --ssh-accept-new once.\n';

export const createNodeExec = async (
  options: NodeAccessOptions,
  deps: CreateNodeExecDeps,
): Promise<NodeExec> => {
  if (options.mode === 'kube-exec' || options.mode === 'daemonset') return kubeExec(options, deps);
  const { createSshExec } = await import('./ssh.ts');
  const { io, yes } = deps;
  const ssh = options.ssh;
  // Every run, not once: the flag tends to outlive the throwaway lab it was meant for (CI configs).
  if (ssh.insecureSkipHostKeyCheck) io.stderr.write(INSECURE_WARNING);
  // One prompt per key file per run (KeyStore caches the loaded key); FLANNELCTL_SSH_PASSPHRASE wins.
  const passphrase = canPrompt(io, yes)
    ? async (keyFile: string): Promise<string | undefined> => {
        const { askPassword } = await import('../prompts.ts');
        return (await askPassword(io, `Passphrase for ${keyFile}`)) || undefined;
      }
    : undefined;
  return createSshExec({
    ...(ssh.user !== undefined ? { user: ssh.user } : {}),
    ...(ssh.port !== undefined ? { port: ssh.port } : {}),
    identityFiles: ssh.identityFiles,
    ...(ssh.configFile !== undefined ? { sshConfigFile: ssh.configFile } : {}),
    ...(ssh.knownHostsFile !== undefined ? { knownHostsFile: ssh.knownHostsFile } : {}),
    acceptNew: ssh.acceptNew,
    insecureSkipHostKeyCheck: ssh.insecureSkipHostKeyCheck,
    ...(ssh.jumpHost !== undefined ? { jumpHost: ssh.jumpHost } : {}),
    sudo: ssh.sudo,
    ...(passphrase ? { passphrase } : {}),
    env: io.env,
    concurrency: options.concurrency,
    connectTimeoutMs: options.connectTimeoutMs,
  });
};

/** kube-exec and daemonset: pods through the API, in flannel's namespace, with flannel's image. */
const kubeExec = async (options: NodeAccessOptions, deps: CreateNodeExecDeps): Promise<NodeExec> => {
  const { kube, namespace } = deps;
  const mode = options.mode;
  if (!kube || !namespace) {
    throw new UsageError(
      `--node-access ${mode} needs the Kubernetes API (and this command does not support it without one)`,
      'pass --kubeconfig, or use --node-access ssh',
    );
  }
  const image = options.nodeImage ?? deps.flannelImage;
  if (!image) {
    throw new UsageError(
      `--node-access ${mode}: no flannel DaemonSet in ${namespace} to take the pod image from`,
      "pass --node-image IMAGE (it needs sh, iproute2 and iptables), or -n for flannel's namespace",
    );
  }
  const common = {
    kube,
    namespace,
    image,
    runId: randomBytes(3).toString('hex'),
    concurrency: options.concurrency,
    startTimeoutMs: options.connectTimeoutMs,
    log: (line: string) => deps.io.stderr.write(`${line}\n`),
  };
  if (mode === 'daemonset') {
    const { createDaemonSetAccess } = await import('./daemonset-access.ts');
    return createDaemonSetAccess(common);
  }
  const { createKubeExec } = await import('./kube-exec.ts');
  return createKubeExec(common);
};
