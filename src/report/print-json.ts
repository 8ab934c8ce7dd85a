// `-o json`: the Report itself, the stable contract for CI (see report-schema.ts). Any value, exact:
// DEL and C1 characters are \u escapes, so the terminal sees nothing it would act on (printable.ts).
import { jsonSafe } from './printable.ts';

export const printJson = (value: unknown): string => `${jsonSafe(JSON.stringify(value, null, 2))}\n`;
