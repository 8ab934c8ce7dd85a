// The files named by flags. flannelctl often runs as root (lab, node changes), so a path must not be able
// to do more than the user meant: an input must be a regular file (a FIFO hangs the read, /dev/zero never
// ends, a directory fails late), and an output is written only into a regular file and never through a
// symlink at its last component (O_NOFOLLOW) that someone else may have planted in a shared directory.
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readFileSync,
  writeFileSync,
  statSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from './errors.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

const describeKind = (stat: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean }) =>
  stat.isDirectory()
    ? 'a directory'
    : stat.isFIFO()
      ? 'a FIFO'
      : stat.isCharacterDevice()
        ? 'a device'
        : 'not a regular file';

const reason = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ELOOP') return 'it is a symbolic link (refused for output files; name the real file)';
  if (code === 'ENXIO') return 'a FIFO or socket with no reader';
  return (error as Error).message;
};

/** Reads FLAG's file as UTF-8; anything but a regular file (after symlinks) is a usage error. */
export const readRegularFile = (path: string, flag: string): string => {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO without a writer must not hang before we can look at what it is.
    fd = openSync(path, O_RDONLY | O_NONBLOCK);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: cannot read it: ${reason(error)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new UsageError(`${flag} ${path}: ${describeKind(stat)}, expected a regular file`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
};

/**
 * Up-front check of an output path, before any work is done: its directory exists, and what is there
 * already (if anything) is a regular file, not a symlink, FIFO, device or directory.
 */
export const checkOutputPath = (path: string, flag: string): void => {
  const dir = dirname(resolve(path));
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`${flag} ${path}: directory ${dir} does not exist`);
  const existing = lstatSync(path, { throwIfNoEntry: false });
  if (!existing || existing.isFile()) return;
  throw new UsageError(
    `${flag} ${path}: ${existing.isSymbolicLink() ? 'a symbolic link' : describeKind(existing)}, expected a regular file`,
    'name a new file or an existing regular file; output files are never written through symbolic links',
  );
};

export interface WriteOptions {
  /** File mode when the file is created. */
  readonly mode?: number;
  /** Fail when the file exists (for backups, which must never overwrite one). */
  readonly exclusive?: boolean;
}

/** Writes FLAG's file: created or replaced, never through a final symlink, only if it is a regular file. */
export const writeOutputFile = (
  path: string,
  text: string,
  flag: string,
  options: WriteOptions = {},
): void => {
  let fd: number;
  try {
    const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | (options.exclusive ? O_EXCL : 0);
    fd = openSync(path, flags, options.mode ?? 0o666);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`${flag} ${path}: the file exists already`);
    throw new UsageError(`cannot write ${flag} ${path}: ${reason(error)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new UsageError(`${flag} ${path}: ${describeKind(stat)}, expected a regular file`);
    // Truncate only now that we know it is a regular file we opened ourselves.
    ftruncateSync(fd, 0);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
};
