import { InvalidArgumentError } from 'commander';

/** Accumulates a repeatable flag. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** A whole-number flag; commander reports the error as a usage error naming the flag. */
export const integer =
  (flag: string) =>
  (value: string): number => {
    if (!/^\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`${flag} takes a whole number, not "${value}"`);
    return Number(value);
  };

/** A comma-separated list flag; repeating the flag adds to the list. */
export const commaList = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];
