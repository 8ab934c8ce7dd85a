// `-o yaml`: the same document as -o json. The yaml library double-quotes strings with control
// characters and escapes C0 (\e, \a); DEL and C1 become \u escapes here, so the value stays exact.
import { stringify } from 'yaml';
import { jsonSafe } from './printable.ts';

export const printYaml = (value: unknown): string => jsonSafe(stringify(value));
