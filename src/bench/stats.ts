// Medians and spreads over repeats, percentiles over ping replies: throughput on a shared machine is
// noisy, so a result is the median of several runs with its min–max, never one number.

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** Every run, in order. */
  readonly values: readonly number[];
}

export const median = (values: readonly number[]): number => {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** null when there is nothing to summarise (e.g. no CPU numbers in any run). */
export const spread = (values: readonly (number | null | undefined)[]): Spread | null => {
  const known = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (known.length === 0) return null;
  return { median: median(known), min: Math.min(...known), max: Math.max(...known), values: known };
};

/** Nearest-rank percentile (p in 0–100), as ping summaries and k8s-netperf report them. */
export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) throw new Error('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is not between 0 and 100`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
};

/** Relative change from `before` to `after` in percent; null when `before` is zero or unknown. */
export const changePercent = (
  before: number | null | undefined,
  after: number | null | undefined,
): number | null =>
  before === null || before === undefined || after === null || after === undefined || before === 0
    ? null
    : ((after - before) / Math.abs(before)) * 100;
