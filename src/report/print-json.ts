// `-o json`: the Report itself, the stable contract for CI (see report-schema.ts).
import type { Report } from './report.ts';

export const printJson = (report: Report): string => `${JSON.stringify(report, null, 2)}\n`;
