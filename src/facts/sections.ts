// Splits probe output into sections. Only whole lines carrying this run's nonce count as markers,
// so a command that prints something marker-like cannot end or forge a section.

export interface Section {
  readonly name: string;
  /** The command's output (stdout and stderr), exactly as printed. */
  readonly body: string;
  /** null when the END marker never arrived (output truncated, command killed). */
  readonly exitCode: number | null;
  readonly complete: boolean;
}

/**
 * A copy of `text` that shares no memory with the string it was cut from. V8 keeps a substring of 13 or
 * more characters as a view of its parent, so one kept section name, error line or kernel version would
 * keep the node's whole probe output alive (~0.5 MB per node at 1,000 nodes).
 */
export const detach = (text: string): string =>
  text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');

export const splitSections = (stdout: string, nonce: string): Map<string, Section> => {
  const sections = new Map<string, Section>();
  const marker = new RegExp(`^@@${escape(nonce)} (BEGIN|END) (\\S+)(?: (-?\\d+))?\\r?$`, 'gm');
  let open: { name: string; start: number } | undefined;
  const add = (section: Section): void => {
    // The first occurrence wins: a section name is only ever emitted once by the script.
    if (!sections.has(section.name)) sections.set(section.name, section);
  };
  for (const match of stdout.matchAll(marker)) {
    const [line, kind, cut = '', code] = match;
    const name = detach(cut);
    const at = match.index;
    if (kind === 'BEGIN') {
      if (open)
        add({ name: open.name, body: bodyBefore(stdout, open.start, at), exitCode: null, complete: false });
      open = { name, start: Math.min(at + line.length + 1, stdout.length) };
    } else if (open && open.name === name && code !== undefined) {
      add({ name, body: bodyBefore(stdout, open.start, at), exitCode: Number(code), complete: true });
      open = undefined;
    }
  }
  if (open) add({ name: open.name, body: stdout.slice(open.start), exitCode: null, complete: false });
  return sections;
};

// The script prints a newline before each marker so that it starts a line even when the body does
// not end with one; drop exactly that newline.
const bodyBefore = (text: string, start: number, markerAt: number): string =>
  text.slice(start, Math.max(start, text[markerAt - 1] === '\n' ? markerAt - 1 : markerAt));

const escape = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
