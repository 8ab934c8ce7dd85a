/* eslint-disable no-control-regex -- finding control characters is what this file is about */
// Strings from the cluster or a node (annotations, ConfigMap values, flanneld log lines, API error
// messages) can carry terminal escapes: OSC 52 writes the operator's clipboard, CSI 2J clears the
// screen, cursor moves overwrite what was printed. Text output shows them visibly escaped instead,
// the way kubectl does (k8s.io/cli-runtime pkg/printers/terminal.go: ESC → "^[", CR → "\r", from
// kubernetes/kubernetes#112553); other C0 characters in caret notation (^G, as less and cat -v show
// them), DEL as ^?, and C1 characters (U+0080–U+009F, 8-bit CSI is U+009B) as less shows them,
// <U+009B>. JSON and YAML keep the exact value: see jsonSafe.

// C0 (except what is allowed by the caller), DEL, C1.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

const BACKSLASH: Readonly<Record<string, string>> = { '\r': '\\r', '\n': '\\n', '\t': '\\t' };

const escapeControl = (c: string): string => {
  const code = c.charCodeAt(0);
  if (BACKSLASH[c]) return BACKSLASH[c];
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return '^?';
  return `<U+${code.toString(16).toUpperCase().padStart(4, '0')}>`;
};

/** One value on one line: every control character, newline and tab included, shown escaped. */
export const printable = (value: string): string => value.replace(CONTROL, escapeControl);

/** A block of text: newlines and tabs stay, every other control character is shown escaped. */
export const printableText = (text: string): string =>
  text.replace(CONTROL, (c) => (c === '\n' || c === '\t' ? c : escapeControl(c)));

// The only escape sequences flannelctl itself prints: chalk's one-parameter SGR codes for reset,
// bold, dim, italic, underline, their resets, and the 16 foreground colours (no conceal, blink,
// reverse or background, which could hide text). Hubble filters its output the same way
// (cilium/hubble pkg/printer/terminal.go, terminalEscaperBuilder: an allow-list, then ESC → "^[").
const OWN_SGR = /\x1b\[(?:0|1|2|3|4|22|23|24|3[0-79]|9[0-7])m/y;

/**
 * The last line of defence at the output streams: text as `printableText` leaves it, except that
 * flannelctl's own colours survive when `keepColor` (the stream may be coloured at all).
 */
export const terminalSafe = (text: string, keepColor: boolean): string => {
  if (!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\x1b' && keepColor) {
      OWN_SGR.lastIndex = i;
      const sgr = OWN_SGR.exec(text);
      if (sgr) {
        out += sgr[0];
        i += sgr[0].length - 1;
        continue;
      }
    }
    out += c === '\n' || c === '\t' ? c : c.replace(CONTROL, escapeControl);
  }
  return out;
};

/**
 * JSON.stringify and the yaml library escape C0 but leave DEL and C1 raw; written as \u escapes
 * (valid in JSON strings and YAML double-quoted scalars, where the yaml library puts such values),
 * the document decodes to the exact value and the terminal sees nothing it would act on.
 */
export const jsonSafe = (document: string): string =>
  document.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
