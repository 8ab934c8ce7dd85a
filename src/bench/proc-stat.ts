// Node CPU from /proc/stat, the way knb reads it with sar: two snapshots of the aggregate "cpu" line;
// busy = everything but idle and iowait, over the interval. Works over any node connection, no agent.

export interface CpuTimes {
  readonly total: number;
  readonly idle: number;
}

/** The aggregate `cpu` line of /proc/stat; null when there is none. */
export const parseProcStat = (text: string): CpuTimes | null => {
  const line = text.split('\n').find((l) => /^cpu\s/.test(l));
  if (!line) return null;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return null;
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait };
};

/** Busy share of all CPUs between two snapshots, in percent of the whole node (0–100). */
export const busyPercent = (before: CpuTimes, after: CpuTimes): number | null => {
  const total = after.total - before.total;
  if (total <= 0) return null;
  return Math.min(100, Math.max(0, ((total - (after.idle - before.idle)) / total) * 100));
};
