// JSON.parse with errors a user can act on: which file, which line and column.
import { UsageError } from '../errors.ts';

/** Parses JSON text; a syntax error becomes a UsageError naming `source` and the line/column. */
export const parseJsonText = (text: string, source: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const { line, column } = errorLocation(text, message);
    const reason = message
      .replace(/\s*(?:in JSON )?at position \d+.*$/s, '')
      .replace(/\s*\(line \d+ column \d+\)$/, '');
    throw new UsageError(
      `${source}: invalid JSON at line ${line}, column ${column}: ${reason}`,
      `check the ${source} syntax (a trailing comma or a missing quote is the usual cause)`,
    );
  }
};

const errorLocation = (text: string, message: string): { line: number; column: number } => {
  const lineColumn = /line (\d+) column (\d+)/.exec(message);
  if (lineColumn) return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const position = /at position (\d+)/.exec(message);
  // Without a position (e.g. "Unexpected end of JSON input") the problem is at the end.
  const offset = position ? Number(position[1]) : text.length;
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
};

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
