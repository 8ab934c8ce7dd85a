// Durations feed Node timers, which take at most 2^31-1 ms: a longer one would fire after 1 ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_MS, parseDuration } from '../../src/duration.ts';
import { UsageError } from '../../src/errors.ts';

test('kubectl-style durations up to the timer limit parse to milliseconds', () => {
  assert.equal(parseDuration('90'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('596h'), 2_145_600_000);
  assert.equal(parseDuration('596h31m23.647s'), MAX_TIMER_MS);
});

test('a duration beyond the timer limit is a usage error naming the flag and the limit', () => {
  for (const text of ['596h31m23.648s', '600h', '2147484', '100000h']) {
    assert.throws(
      () => parseDuration(text, '--command-timeout'),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message ===
          `--command-timeout "${text}" is too long: Node's timers go up to 2^31-1 ms (596h31m23s)`,
      text,
    );
  }
});
