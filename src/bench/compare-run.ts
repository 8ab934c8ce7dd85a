// `flannelctl bench compare A.json B.json`: reads two saved results and prints B against A.
import { ResultExit, UsageError } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import { useColor, type Io } from '../io.ts';
import { compareResults, parseBenchResult } from './compare.ts';
import { printComparisonText } from './print-text.ts';
import { readRegularFile } from '../files.ts';
import { printJson } from '../report/print-json.ts';
import { printYaml } from '../report/print-yaml.ts';

export interface CompareFlags {
  /** Percent: exit 1 when B's throughput is this much lower than A's. */
  failOnRegression?: string;
}

const read = (file: string) => {
  return parseBenchResult(readRegularFile(file, 'bench compare'), file);
};

export const runCompare = (
  before: string,
  after: string,
  flags: CompareFlags,
  globals: GlobalOptions,
  io: Io,
): void => {
  let maxDrop: number | undefined;
  if (flags.failOnRegression !== undefined) {
    maxDrop = Number(flags.failOnRegression);
    if (!/^\d+(\.\d+)?$/.test(flags.failOnRegression) || !(maxDrop >= 0 && maxDrop <= 100))
      throw new UsageError(
        `--fail-on-regression ${flags.failOnRegression} is not a percentage`,
        'e.g. --fail-on-regression 5',
      );
  }
  const cmp = compareResults(read(before), read(after), { before, after });
  if (globals.output === 'json') io.stdout.write(printJson(cmp));
  else if (globals.output === 'yaml') io.stdout.write(printYaml(cmp));
  else io.stdout.write(printComparisonText(cmp, useColor(io, globals.color)));
  if (maxDrop !== undefined) {
    const change = cmp.paths[0]!.metrics.find((m) => m.metric === 'throughput')!.changePercent;
    if (change !== null && change < -maxDrop) {
      io.stderr.write(
        `--fail-on-regression: throughput fell ${Math.abs(change).toFixed(1)}% (more than ${maxDrop}%)\n`,
      );
      throw new ResultExit(1);
    }
  }
};
