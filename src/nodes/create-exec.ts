// Builds the NodeExec a command uses from its parsed node-access flags. The SSH adapter (ssh2) is
// loaded on demand so commands that never talk to nodes, and --help, stay fast.
import type { NodeAccessOptions } from '../commands/node-access-flags.ts';
import { UsageError } from '../errors.ts';
import { canPrompt, type Io } from '../io.ts';
import type { NodeExec } from './exec.ts';

export interface CreateNodeExecDeps {
  readonly io: Io;
  /** --yes: never prompt (the passphrase then comes from FLANNELCTL_SSH_PASSPHRASE or ssh-agent). */
  readonly yes: boolean;
}

export const createNodeExec = async (
  options: NodeAccessOptions,
  deps: CreateNodeExecDeps,
): Promise<NodeExec> => {
  if (options.mode !== 'ssh') throw new UsageError(`--node-access ${options.mode} is not available yet`);
  const { createSshExec } = await import('./ssh.ts');
  const { io, yes } = deps;
  const ssh = options.ssh;
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
