// dash's printf builtin, as far as scripts sent to nodes use it: %s, %d and %% conversions, the
// backslash escapes \n \t \\ \' \", and the format reused until every argument is consumed.
import type { Output } from '../render/proc.ts';

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"' };

const unescape = (text: string): string => text.replace(/\\(.)/g, (m, c: string) => ESCAPES[c] ?? m);

export const printfCommand = (_node: unknown, argv: readonly string[]): Output => {
  const [format, ...args] = argv;
  if (format === undefined)
    return { stdout: '', stderr: 'printf: usage: printf format [arg ...]\n', code: 2 };
  const conversions = (format.match(/%[sd]/g) ?? []).length;
  let stdout = '';
  let stderr = '';
  let next = 0;
  do {
    stdout += unescape(format).replace(/%([sd%])/g, (_m, c: string) => {
      if (c === '%') return '%';
      const arg = args[next++] ?? '';
      if (c === 's') return arg;
      const n = arg === '' ? 0 : Number(arg);
      if (!Number.isInteger(n)) {
        stderr += `printf: ${arg}: not completely converted\n`;
        return '0';
      }
      return String(n);
    });
  } while (conversions > 0 && next < args.length);
  return { stdout, stderr, code: stderr === '' ? 0 : 1 };
};
