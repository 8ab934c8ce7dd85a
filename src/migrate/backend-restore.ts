// What a rollback may write to net-conf.json: only the Backend section flannelctl changed, decided three
// ways (the backup, what flannelctl wrote, what is there now), so nobody else's edit is ever reverted.
import { isDeepStrictEqual } from 'node:util';
import { createTwoFilesPatch } from 'diff';

export type BackendRestore =
  /** Write this net-conf.json: the current text with the backup's Backend. */
  | { readonly kind: 'restore'; readonly text: string }
  /** The current Backend is the backup's already: nothing to write. */
  | { readonly kind: 'unchanged' }
  /** Someone else changed the Backend (or the text no longer parses): a human must decide. */
  | { readonly kind: 'conflict'; readonly reason: string };

export interface ThreeWay {
  /** net-conf.json before the migration. */
  readonly backup: string;
  /** What flannelctl wrote; undefined when it never changed net-conf.json. */
  readonly written: string | undefined;
  /** What the ConfigMap holds now (undefined: the key is gone). */
  readonly current: string | undefined;
}

const parseObject = (text: string | undefined): Record<string, unknown> | undefined => {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Backends are compared as flanneld reads them (JSON values, key order and spacing ignored). When the
 * current text is exactly what flannelctl wrote, the backup text comes back byte for byte; otherwise
 * only the Backend value is replaced and every other key keeps its current value and place.
 */
export const decideBackendRestore = ({ backup, written, current }: ThreeWay): BackendRestore => {
  if (written !== undefined && current === written) return { kind: 'restore', text: backup };
  const b = parseObject(backup);
  const c = parseObject(current);
  if (!b) return { kind: 'conflict', reason: 'the backup net-conf.json is not a JSON object' };
  if (!c)
    return {
      kind: 'conflict',
      reason:
        current === undefined ? 'net-conf.json is gone from the ConfigMap' : 'net-conf.json no longer parses',
    };
  if (isDeepStrictEqual(c.Backend, b.Backend)) return { kind: 'unchanged' };
  const w = parseObject(written);
  if (!w)
    return {
      kind: 'conflict',
      reason: 'the Backend differs from the backup, and flannelctl did not write net-conf.json',
    };
  if (!isDeepStrictEqual(c.Backend, w.Backend))
    return {
      kind: 'conflict',
      reason: 'the Backend was changed by someone else after flannelctl wrote it',
    };
  const next: Record<string, unknown> = { ...c, Backend: b.Backend };
  if (b.Backend === undefined) delete next.Backend;
  return { kind: 'restore', text: `${JSON.stringify(next, null, 2)}\n` };
};

/** Control characters from the cluster shown as \xNN, so a hostile value cannot drive the terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const printable = (text: string): string =>
  text.replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** The three versions side by side as two unified diffs: what flannelctl changed, and what changed since. */
export const threeWayDiff = (t: ThreeWay, labels: { backup: string; written: string; current: string }) => {
  const written = t.written ?? t.backup;
  const current = t.current ?? '';
  const patch = (a: string, b: string, from: string, to: string) =>
    createTwoFilesPatch(from, to, a, b, undefined, undefined, { context: 3 })
      .split('\n')
      .filter((l) => !l.startsWith('====='))
      .join('\n');
  return printable(
    [
      `what flannelctl changed (${labels.backup} -> ${labels.written}):`,
      t.written === undefined
        ? '(flannelctl did not write net-conf.json)\n'
        : patch(t.backup, written, 'backup', 'written'),
      `what changed since (${labels.written} -> ${labels.current}):`,
      patch(written, current, 'written', 'current'),
    ].join('\n'),
  );
};
