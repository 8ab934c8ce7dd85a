import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './types.ts';

/**
 * The flags that point flannelctl at a lab cluster over the lab's real OpenSSH: its kubeconfig, the
 * lab's client key and known_hosts, and an empty ssh config so the operator's own ~/.ssh/config
 * cannot redirect the lab's addresses.
 */
export const labCliArgs = (lab: Lab, kubeconfig: string): string[] => {
  const ssh = lab.ssh;
  if (!ssh) throw new Error('lab: started without SSH, so flannelctl cannot reach its nodes');
  const sshConfig = join(lab.dir, 'flannelctl_ssh_config');
  writeFileSync(sshConfig, '# empty: the lab needs no ssh config\n');
  return [
    '--kubeconfig',
    kubeconfig,
    '--ssh-user',
    'root',
    '--ssh-key',
    ssh.identityFile,
    '--ssh-known-hosts',
    ssh.knownHostsFile,
    '--ssh-config',
    sshConfig,
  ];
};
