// Every byte flannelctl writes to stdout and stderr passes terminalSafe, so a value that reached some
// message without printable() (an API error, a warning, a dry-run plan) still cannot drive the
// terminal. The streams are otherwise untouched (isTTY, columns, events), so colour detection and
// listr2 see the real terminal.
import type { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Io } from '../io.ts';
import { terminalSafe } from './printable.ts';

const RAW = Symbol('raw stream');

type Chunk = string | Uint8Array;

/** flannelctl's own colours can only appear where chalk may colour at all (useColor, io.ts). */
const mayColor = (stream: Writable, env: NodeJS.ProcessEnv): boolean =>
  (env.NO_COLOR === undefined || env.NO_COLOR === '') &&
  Boolean((stream as { isTTY?: boolean }).isTTY || env.FORCE_COLOR);

export const terminalSafeStream = <T extends Writable>(stream: T, env: NodeJS.ProcessEnv): T => {
  if ((stream as { [RAW]?: Writable })[RAW]) return stream;
  const keepColor = mayColor(stream, env);
  // Bytes may split a UTF-8 character (or an escape) across writes: decoded with what came before.
  const decoder = new StringDecoder('utf8');
  const write = (chunk: Chunk, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk));
    return (stream.write as (c: string, ...r: unknown[]) => boolean)(terminalSafe(text, keepColor), ...rest);
  };
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === RAW) return target;
      if (prop === 'write') return write;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
};

/**
 * The unfiltered stream, for listr2's animated renderer only: it moves the cursor to redraw its
 * rows, and its titles are flannelctl's own text and validated node names.
 */
export const rawStream = <T extends Writable>(stream: T): T =>
  ((stream as { [RAW]?: T })[RAW] ?? stream) as T;

export const terminalSafeIo = (io: Io): Io => ({
  ...io,
  stdout: terminalSafeStream(io.stdout, io.env),
  stderr: terminalSafeStream(io.stderr, io.env),
});
