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

/**
 * The per-peer parts of one `route-get-*` section (see the probe's `g`): `@@NONCE GET <peer>` opens a
 * peer's output and `@@NONCE GOT <peer> <exit>` closes it, with the same newline rule as sections. One
 * section per node instead of one per peer: a plain scan, not a marker regex and Map entry per peer
 * over the whole output (999 peers at 1,000 nodes). Keyed by peer; parts are named `<section>/<peer>`.
 */
export const splitPeerSections = (section: Section, nonce: string): Map<string, Section> => {
  const parts = new Map<string, Section>();
  const { body } = section;
  const get = `@@${nonce} GET `;
  const got = `\n@@${nonce} GOT `;
  let at = body.indexOf(get);
  while (at !== -1) {
    if (at > 0 && body[at - 1] !== '\n') {
      at = body.indexOf(get, at + 1); // only whole lines are markers
      continue;
    }
    const lineEnd = body.indexOf('\n', at);
    // Detached: the peer is kept as a key of the facts; the name only in rare failure messages.
    const peer = detach(
      body.slice(at + get.length, lineEnd === -1 ? body.length : lineEnd).replace(/\r$/, ''),
    );
    const name = `${section.name}/${peer}`;
    const start = lineEnd === -1 ? body.length : lineEnd + 1;
    const close = `${got}${peer} `;
    let end = body.indexOf(close, start);
    let code: string | undefined;
    while (end !== -1) {
      const codeEnd = body.indexOf('\n', end + close.length);
      code = /^(-?\d+)\r?$/.exec(body.slice(end + close.length, codeEnd === -1 ? body.length : codeEnd))?.[1];
      if (code !== undefined) break;
      end = body.indexOf(close, end + 1);
    }
    if (end === -1 || code === undefined) {
      // Cut off: the rest is this peer's (truncated) output.
      if (!parts.has(peer))
        parts.set(peer, { name, body: body.slice(start), exitCode: null, complete: false });
      break;
    }
    if (!parts.has(peer))
      parts.set(peer, {
        name,
        body: body.slice(start, Math.max(start, end)),
        exitCode: Number(code),
        complete: true,
      });
    at = body.indexOf(get, end + 1);
  }
  return parts;
};

const escape = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
