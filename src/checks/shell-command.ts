// Remediations are shell commands operators paste as root, and many of their values come from the
// cluster (annotations, ConfigMap text, names) where anyone with write access can plant
// `1.2.3.4;touch /tmp/x #`. So a remediation can only be built with the `sh` tagged template, whose
// interpolations are Shell values: validated parts (an IP literal, a CIDR, a MAC, an interface or
// Kubernetes name), explicitly quoted words, comment text, or other `sh` fragments. A plain string
// does not type-check there, and a Remediation (what findings carry) cannot be made from one.
import { isIP } from 'node:net';

declare const remediationBrand: unique symbol;
/** The text of a command built by `sh`: what Finding.remediation holds. */
export type Remediation = string & { readonly [remediationBrand]: true };

type Kind = 'code' | 'comment-text';

const minted = Symbol('shell');

/** A piece of shell text that is safe where it is placed: only this module makes one. */
export class Shell {
  readonly text: Remediation;
  readonly kind: Kind;
  /** A `#` comment starts in it: whatever follows is comment. */
  readonly opensComment: boolean;

  /** @internal */
  constructor(token: typeof minted, text: string, kind: Kind, opensComment: boolean) {
    if (token !== minted) throw new Error('Shell values are made by shell-command.ts only');
    this.text = text as Remediation;
    this.kind = kind;
    this.opensComment = opensComment;
  }

  toString(): string {
    return this.text;
  }
}

const code = (text: string, opensComment = false): Shell => new Shell(minted, text, 'code', opensComment);

/** `#` at the start of a word starts a comment (POSIX shell, 2.3 Token Recognition rule 9). */
const COMMENT_START = /(^|[\s;&|()])#/;

// Characters that never need quoting in any POSIX shell word.
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
// C0 and C1 controls and DEL: a newline would end a comment, an ESC would talk to the terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;

const hex = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * One shell word holding exactly `value`, on one line: as is when it has only plain characters, in
 * single quotes otherwise, and as ANSI-C `$'…'` (bash, zsh, ksh; POSIX since 2024) when it holds
 * control characters, so a pasted command never spans lines nor carries terminal escapes.
 */
export const quoted = (value: string): Shell => {
  if (PLAIN_WORD.test(value)) return code(value);
  if (!CONTROL.test(value)) return code(`'${value.replaceAll("'", `'\\''`)}'`);
  // `!` too: bash's interactive history expansion is not stopped by $'…'.
  const escaped = value
    .replace(/[\\']/g, (c) => `\\${c}`)
    .replace(CONTROL_ALL, hex)
    .replaceAll('!', hex('!'));
  return code(`$'${escaped}'`);
};

/** Free text after a `#`: control characters shown as \xHH so the comment stays on its line. */
export const comment = (text: string): Shell =>
  new Shell(minted, text.replace(CONTROL_ALL, hex), 'comment-text', false);

/** Integers (counts, MTUs, sysctl values) are safe words; anything else is not a number we wrote. */
const numberWord = (n: number | bigint): string => {
  if (typeof n === 'bigint' || Number.isSafeInteger(n)) return String(n);
  throw new Error(`not an integer for a shell command: ${n}`);
};

export type ShellValue = Shell | number | bigint;

/**
 * The only way to build a remediation: sh`ip route replace ${cidr} via ${ip}`. The literal text is
 * ours; every interpolation is a Shell value or an integer. Comment text is refused outside a comment.
 */
export const sh = (strings: TemplateStringsArray, ...values: readonly ShellValue[]): Shell => {
  let text = strings[0]!;
  let inComment = COMMENT_START.test(text);
  values.forEach((value, i) => {
    if (value instanceof Shell) {
      if (value.kind === 'comment-text' && !inComment) {
        throw new Error(`comment text outside a comment in: ${text}`);
      }
      text += value.text;
      inComment ||= value.opensComment;
    } else {
      text += numberWord(value);
    }
    const literal = strings[i + 1]!;
    text += literal;
    inComment ||= COMMENT_START.test(literal);
  });
  return code(text, inComment);
};

/** Fragments joined by a separator that is itself a fragment (sh` && `, sh`; `). */
export const joinShell = (parts: readonly Shell[], separator: Shell): Shell => {
  if (parts.some((p, i) => p.opensComment && i < parts.length - 1)) {
    throw new Error('a fragment with a comment can only come last');
  }
  return code(parts.map((p) => p.text).join(separator.text), parts.at(-1)?.opensComment ?? false);
};

// --- validated parts: null when the value is not what it claims to be --------------------------

/** An IPv4 or IPv6 address literal, as net.ParseIP takes it (no zone, no brackets, no prefix). */
export const ipArg = (value: string | null | undefined): Shell | null =>
  value && isIP(value) !== 0 ? code(value) : null;

/** A CIDR: an IP literal and a prefix length within the family's bits. */
export const cidrArg = (value: string | null | undefined): Shell | null => {
  const m = value ? /^([^/]+)\/(\d{1,3})$/.exec(value) : null;
  if (!m) return null;
  const family = isIP(m[1]!);
  const bits = family === 4 ? 32 : family === 6 ? 128 : 0;
  return bits && Number(m[2]) <= bits ? code(value!) : null;
};

/** A 48-bit MAC in colon notation, as flanneld writes VtepMAC (net.HardwareAddr.String()). */
export const macArg = (value: string | null | undefined): Shell | null =>
  value && /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(value) ? code(value) : null;

/**
 * A Linux interface name per dev_valid_name (net/core/dev.c): 1–15 bytes, not "." or "..", no '/',
 * ':' or whitespace. Other characters (`;`, `$`) are legal there, so the name is quoted when needed.
 */
export const isInterfaceName = (value: string): boolean =>
  value.length > 0 &&
  Buffer.byteLength(value) < 16 &&
  value !== '.' &&
  value !== '..' &&
  !/[/:\s]/.test(value);

export const ifnameArg = (value: string | null | undefined): Shell | null =>
  value && isInterfaceName(value) ? quoted(value) : null;

/** A DNS-1123 subdomain: what the API server accepts as a node, pod or ConfigMap name. */
export const isKubeName = (value: string): boolean =>
  value.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(value);

export const kubeNameArg = (value: string | null | undefined): Shell | null =>
  value && isKubeName(value) ? code(value) : null;

/** A name for a command: as is when the API could have stored it, else quoted (never raw). */
export const nameArg = (value: string): Shell => kubeNameArg(value) ?? quoted(value);
