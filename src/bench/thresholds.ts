// CI gates: --fail-below (Gbit/s), --fail-above-rtt (ms, p50 unless named) and --fail-below-efficiency
// (pod/host percent). They judge the pod path when it was measured, else the host path.
import type { Thresholds } from './options.ts';
import { pathResult, type BenchResult } from './result.ts';

export interface Violation {
  readonly flag: string;
  readonly message: string;
}

export const checkThresholds = (result: BenchResult, thresholds: Thresholds): Violation[] => {
  const judged = pathResult(result, 'pod') ?? pathResult(result, 'host');
  const violations: Violation[] = [];
  if (!judged) return violations;
  const { minGbps, maxRtt, minEfficiencyPercent } = thresholds;
  const gbps = judged.tcp.gbps.median;
  if (minGbps !== undefined && gbps < minGbps) {
    violations.push({
      flag: '--fail-below',
      message: `${judged.path} throughput ${gbps.toFixed(2)} Gbit/s is below ${minGbps} Gbit/s`,
    });
  }
  if (maxRtt) {
    const key = `${maxRtt.percentile}Ms` as const;
    const rtt = judged.latency?.[key] ?? null;
    if (rtt === null)
      violations.push({ flag: '--fail-above-rtt', message: `no ${judged.path} RTT was measured` });
    else if (rtt > maxRtt.ms)
      violations.push({
        flag: '--fail-above-rtt',
        message: `${judged.path} RTT ${maxRtt.percentile} ${rtt} ms is above ${maxRtt.ms} ms`,
      });
  }
  if (minEfficiencyPercent !== undefined) {
    const eff = result.overlayEfficiency;
    if (eff === null)
      violations.push({ flag: '--fail-below-efficiency', message: 'overlay efficiency was not measured' });
    else if (eff * 100 < minEfficiencyPercent)
      violations.push({
        flag: '--fail-below-efficiency',
        message: `pod network reaches ${(eff * 100).toFixed(0)}% of the host baseline, below ${minEfficiencyPercent}%`,
      });
  }
  return violations;
};
