import { ResultExit } from '../errors.ts';
import type { GlobalOptions } from '../global-options.ts';
import { useColor, type Io } from '../io.ts';
import { printJson } from '../report/print-json.ts';
import { printJunit } from '../report/print-junit.ts';
import { printText } from '../report/print-text.ts';
import { printYaml } from '../report/print-yaml.ts';
import { exitCodeFor, type Report } from '../report/report.ts';
import { writeOutputFile } from '../files.ts';

export interface ReportOutputOptions {
  readonly junitFile?: string;
  readonly failOn?: 'fail' | 'warn';
  /** Printed after the report in text mode (e.g. the L2 matrix). */
  readonly textAppendix?: string;
}

/** Prints a report in the chosen format, writes the JUnit file, and ends with the report's exit code. */
export const writeReport = (
  report: Report,
  globals: GlobalOptions,
  io: Io,
  options: ReportOutputOptions = {},
): void => {
  if (options.junitFile) {
    writeOutputFile(options.junitFile, printJunit(report), '--junit-file');
  }
  if (globals.output === 'json') io.stdout.write(printJson(report));
  else if (globals.output === 'yaml') io.stdout.write(printYaml(report));
  else {
    if (options.textAppendix) io.stdout.write(`${options.textAppendix}\n`);
    io.stdout.write(printText(report, { color: useColor(io, globals.color) }));
  }
  const code = exitCodeFor(report, { failOn: options.failOn ?? 'fail' });
  if (code !== 0) throw new ResultExit(code);
};
