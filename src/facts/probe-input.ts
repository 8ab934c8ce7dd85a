// Validation of everything the probe script interpolates. Values come from the Kubernetes API or an
// inventory, so they are checked against a strict grammar and rejected, never quoted-and-hoped.
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { UsageError } from '../errors.ts';

const INTERFACE_NAME = /^[A-Za-z0-9_.@:-]{1,15}$/;
const NONCE = /^[0-9a-f]{16,64}$/;
const ABSOLUTE_PATH = /^\/[A-Za-z0-9._/-]{0,255}$/;

/** A bare IPv4 (dotted quad) or IPv6 literal, without zone, brackets or prefix length. */
export const isIpLiteral = (value: string): boolean =>
  /^[0-9A-Fa-f.:]{2,45}$/.test(value) && isIP(value) !== 0;

export const assertIpLiteral = (value: string, what = 'peer address'): string => {
  if (!isIpLiteral(value))
    throw new UsageError(`Invalid ${what} ${JSON.stringify(value)}: expected an IPv4 or IPv6 address`);
  return value;
};

/** Linux interface names: at most 15 bytes, no whitespace or '/', and no leading '-' (option injection). */
export const isInterfaceName = (value: string): boolean =>
  INTERFACE_NAME.test(value) && !value.startsWith('-') && value !== '.' && value !== '..';

export const assertInterfaceName = (value: string): string => {
  if (!isInterfaceName(value)) throw new UsageError(`Invalid interface name ${JSON.stringify(value)}`);
  return value;
};

export const assertNonce = (value: string): string => {
  if (!NONCE.test(value)) throw new UsageError('Invalid probe nonce: expected 16-64 lowercase hex digits');
  return value;
};

/** A path the script reads (subnet.env, CNI config dir): absolute, plain characters, no '..' segment. */
export const assertProbePath = (value: string): string => {
  if (!ABSOLUTE_PATH.test(value) || value.split('/').includes('..')) {
    throw new UsageError(
      `Invalid probe path ${JSON.stringify(value)}: expected an absolute path of plain characters`,
    );
  }
  return value;
};

/** 128 random bits: command output cannot forge a section marker it cannot guess. */
export const newProbeNonce = (): string => randomBytes(16).toString('hex');
