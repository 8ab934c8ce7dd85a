// maxUnavailable as kubernetes pkg/controller/daemon/util/daemonset_util.go (UnavailableCount) scales it:
// GetScaledValueFromIntOrPercent(maxUnavailable, desiredNumberScheduled, roundUp=true).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { effectiveMaxUnavailable } from '../../src/migrate/plan.ts';

test('a percentage maxUnavailable rounds up, like the DaemonSet controller', () => {
  // 10% of 15 nodes is 1.5: the controller restarts 2 nodes at a time, not 1.
  assert.equal(effectiveMaxUnavailable('10%', 15), 2);
  // 25% of 10 is 2.5 → 3; 30% of 7 is 2.1 → 3.
  assert.equal(effectiveMaxUnavailable('25%', 10), 3);
  assert.equal(effectiveMaxUnavailable('30%', 7), 3);
});

test('an exact percentage and an integer are taken as they are', () => {
  assert.equal(effectiveMaxUnavailable('50%', 10), 5);
  assert.equal(effectiveMaxUnavailable('100%', 4), 4);
  assert.equal(effectiveMaxUnavailable(3, 10), 3);
});

test('a small percentage of a small cluster still restarts one node (never zero)', () => {
  assert.equal(effectiveMaxUnavailable('1%', 3), 1);
  // 0 (with no maxSurge) is defaulted to 1 by the controller's updatedDesiredNodeCounts.
  assert.equal(effectiveMaxUnavailable('0%', 3), 1);
  assert.equal(effectiveMaxUnavailable(undefined, 3), 1);
});
