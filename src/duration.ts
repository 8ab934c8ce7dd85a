import { UsageError } from './errors.ts';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The longest delay a Node timer takes (2^31-1 ms, about 24.8 days); setTimeout fires a longer one
 * after 1 ms instead (a TimeoutOverflowWarning), so a huge timeout would expire at once.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Parses kubectl-style durations ("90s", "5m", "1h30m"); a bare number is seconds. */
export const parseDuration = (text: string, flag = '--timeout'): number => {
  const ms = toMilliseconds(text.trim(), flag, text);
  if (ms > MAX_TIMER_MS) {
    throw new UsageError(
      `${flag} "${text}" is too long: Node's timers go up to 2^31-1 ms (596h31m23s)`,
      `use at most ${flag} 596h`,
    );
  }
  return ms;
};

const toMilliseconds = (trimmed: string, flag: string, text: string): number => {
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new UsageError(
      `${flag} "${text}" is not a duration`,
      `use a number of seconds or units like 90s, 5m, 1h30m`,
    );
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_MS[p[2]!]!, 0));
};
