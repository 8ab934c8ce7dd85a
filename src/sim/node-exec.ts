// What runs a pods/exec command on a simulated node, as a hostNetwork container with the host's
// /run/flannel mounted would: on a virtual node its model answers (the probe, one-line commands); on a
// lab node the command runs in the node's network namespace with the node's run dir as /run/flannel and
// only the capabilities the container's securityContext grants (container-caps.ts).
import { mkdirSync } from 'node:fs';
import { tryRun } from '../lab/command.ts';
import { containerPrivArgs } from './container-caps.ts';
import type { LabNode } from '../lab/types.ts';
import type { NodeExecHandler } from './apiserver/index.ts';
import type { VirtualNode } from './virtual-node/model.ts';
import { runCommand, runScript } from './virtual-node/shell.ts';

const SHELLS = new Set(['sh', '/bin/sh']);

export const virtualNodeExec =
  (node: VirtualNode): NodeExecHandler =>
  ({ command, stdin }) => {
    const [program = '', flag, script] = command;
    const out =
      SHELLS.has(program) && flag === '-s'
        ? runScript(node, stdin ?? '')
        : SHELLS.has(program) && flag === '-c'
          ? runScript(node, script ?? '')
          : runCommand(node, command);
    return Promise.resolve({ stdout: out.stdout, stderr: out.stderr, exitCode: out.code });
  };

// Positional parameters, never interpolation: the command reaches exec as the argv it was.
const IN_MOUNT_NS = 'mount --bind -o ro "$1" /run/flannel && shift && exec "$@"';

export const labNodeExec =
  (node: LabNode): NodeExecHandler =>
  async ({ pod, container, command, stdin }) => {
    mkdirSync('/run/flannel', { recursive: true });
    const r = await tryRun(
      'ip',
      [
        'netns',
        'exec',
        node.netns,
        'unshare',
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        IN_MOUNT_NS,
        'sh',
        node.runDir,
        // After the mount (which needs CAP_SYS_ADMIN): the command itself gets only the pod's capabilities.
        ...containerPrivArgs(pod, container),
        ...command,
      ],
      stdin ?? '',
    );
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.code };
  };
