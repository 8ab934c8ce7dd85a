// A real OpenSSH server per lab node, each in its own mount and UTS namespace (own hostname, own
// /run/flannel), started the way /work/shared/LAB.md verified it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { run } from './command.ts';

export const SSHD = '/usr/sbin/sshd';

export const generateKey = async (file: string, comment: string): Promise<string> => {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  // "ssh-ed25519 AAAA… comment" → type and key only.
  return readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
};

export const sshdConfig = (hostKey: string, authorizedKeys: string): string =>
  [
    'Port 22',
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PidFile none',
    // Else Debian's bash sources root's ~/.bashrc on every command (seconds on some machines).
    'SetEnv SHLVL=1',
    // The default 10:30:100 drops concurrent handshakes beyond 10.
    'MaxStartups 200:30:400',
    'MaxSessions 32',
    'UseDNS no',
    'LogLevel ERROR',
    '',
  ].join('\n');

// Positional parameters, not interpolation: the values never become shell syntax.
// The node's own /etc/sysctl.d too: check-rpfilter --fix and tune --apply persist drop-ins there, and a
// lab node must never write the host's.
const START =
  'hostname "$1" && mount --bind "$2" /run/flannel && mount --bind "$5" /etc/sysctl.d && exec "$3" -D -e -f "$4"';

/** A lab node's own /etc/sysctl.d, beside its run dir. */
export const sysctlDir = (runDir: string): string => join(dirname(runDir), 'sysctl.d');

export interface SshdProcess {
  readonly child: ChildProcess;
  readonly pid: number;
}

export const startSshd = (
  netns: string,
  hostname: string,
  runDir: string,
  configFile: string,
  logFile: string,
): SshdProcess => {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  mkdirSync('/run/flannel', { recursive: true });
  mkdirSync(sysctlDir(runDir), { recursive: true });
  const log = openSync(logFile, 'a');
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      'unshare',
      '-m',
      '-u',
      '--propagation',
      'private',
      'sh',
      '-c',
      START,
      'sh',
      hostname,
      runDir,
      SSHD,
      configFile,
      sysctlDir(runDir),
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  // ip netns exec, unshare and sh all exec: the PID is sshd's own.
  if (child.pid === undefined) throw new Error(`lab: cannot start sshd for ${hostname}`);
  child.unref();
  return { child, pid: child.pid };
};

/** Resolves once the port accepts connections from the root namespace. */
export const waitForPort = async (
  address: string,
  port: number,
  timeoutMs: number,
  exited: () => boolean,
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: address, port, timeout: 500 });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (exited() || Date.now() > deadline) {
      throw new Error(`lab: sshd on ${address}:${port} did not come up`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
};

export const writeLabFile = (dir: string, name: string, text: string, mode = 0o600): string => {
  const file = join(dir, name);
  writeFileSync(file, text, { mode });
  return file;
};
