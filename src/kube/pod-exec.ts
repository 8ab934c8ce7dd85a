// pods/exec through client-node's Exec (a WebSocket speaking v5.channel.k8s.io, else v4): the command's
// stdin, stdout and stderr, and its exit code from the status channel.
import { Readable, Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { InterruptedError, OperationError } from '../errors.ts';
import { KubeApiError, toKubeError } from './api-errors.ts';
import type { PodExecRequest, PodExecResult } from './client.ts';

const V5 = 'v5.channel.k8s.io';

/** The exit code a status carries: 0 for Success, the ExitCode cause for NonZeroExitCode, else undefined. */
export const exitCodeOf = (status: V1Status): number | undefined => {
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return undefined;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : undefined;
};

const collector = (chunks: Buffer[]): Writable =>
  new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });

/** ws reports a refused upgrade only as "Unexpected server response: 403". */
const upgradeStatus = (error: unknown): number | undefined => {
  const message = (error as { message?: string }).message ?? '';
  const match = /Unexpected server response: (\d{3})/.exec(message);
  return match ? Number(match[1]) : undefined;
};

export const execInPod = async (
  kc: KubeConfig,
  server: string,
  request: PodExecRequest,
): Promise<PodExecResult> => {
  const { namespace, pod, container, command, signal } = request;
  const what = `exec in pod ${namespace}/${pod}`;
  if (signal?.aborted) throw new InterruptedError();
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  // Ended only once the protocol is known: v5 half-closes stdin; v4 cannot, so there the script's own
  // trailing `exit` ends the shell and stdin stays open until the socket closes.
  const stdin =
    request.stdin !== undefined
      ? new Readable({
          read() {
            /* pushed below */
          },
        })
      : null;
  stdin?.push(request.stdin);

  return new Promise<PodExecResult>((resolve, reject) => {
    let settled = false;
    let socket: { close(): void; terminate?: () => void } | undefined;
    const finish = (error?: Error, result?: PodExecResult): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error) {
        try {
          socket?.terminate?.();
        } catch {
          /* already closed */
        }
        reject(error);
      } else resolve(result!);
    };
    const onAbort = (): void => finish(new InterruptedError());
    signal?.addEventListener('abort', onAbort, { once: true });

    const onStatus = (status: V1Status): void => {
      const exitCode = exitCodeOf(status);
      if (exitCode === undefined) {
        finish(
          new OperationError(`${what}: ${status.message ?? status.reason ?? 'the command could not be run'}`),
        );
        return;
      }
      finish(undefined, {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        exitCode,
      });
    };

    new Exec(kc)
      .exec(
        namespace,
        pod,
        container,
        [...command],
        collector(stdout),
        collector(stderr),
        stdin,
        false,
        onStatus,
      )
      .then(
        (ws) => {
          socket = ws as unknown as typeof socket;
          if (settled) {
            ws.close();
            return;
          }
          if (stdin) stdin.push(ws.protocol === V5 ? null : '\nexit\n');
          ws.addEventListener('close', () =>
            finish(new OperationError(`${what}: the connection closed before the command's exit status`)),
          );
        },
        (error: unknown) => {
          const code = upgradeStatus(error);
          if (code === 403) {
            finish(
              new KubeApiError(
                `${what}: forbidden (403): the user may not create pods/exec in ${namespace}`,
                403,
                'Forbidden',
                'grant create on pods/exec in that namespace (see `flannelctl rbac --for doctor`)',
              ),
            );
          } else if (code !== undefined) {
            finish(new KubeApiError(`${what}: the API refused the exec (${code})`, code, ''));
          } else finish(toKubeError(error, what, server));
        },
      );
  });
};
