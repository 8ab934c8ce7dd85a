// Measures the path MTU of one path by binary search with don't-fragment pings, one ping per round
// trip (`ping -c 1 -W 1 -M do -s SIZE-28 ADDR`): a healthy path costs one ping at the expected size;
// a black hole costs about log2(expected) pings, a second each for the sizes that get no reply. MTUs
// named by the kernel ("message too long, mtu=N", "Frag needed … (mtu = N)") are tried first.
import { parsePing } from '../facts/parse/ping.ts';

/** IPv4 + ICMP headers: ping's -s is the payload, the packet is 28 bytes larger. */
export const PING_OVERHEAD = 28;
/** ping's default packet (56 + 28): if even this gets no reply, the path is down, not too small. */
export const SMALL_PACKET = 84;

export interface PingProbe {
  readonly size: number;
  readonly passed: boolean;
  /** The MTU a local error or an ICMP "Frag needed" named. */
  readonly reportedMtu: number | null;
  /** No route ("Network is unreachable"): no size will pass. */
  readonly noRoute: boolean;
  /** One line for evidence. */
  readonly line: string;
}

/** ping could not run on the node at all (not installed, no -M do): nothing was measured. */
export class PingToolError extends Error {}

export const pingScript = (address: string, size: number): string =>
  `ping -c 1 -W 1 -M do -s ${size - PING_OVERHEAD} ${address}\n`;

/** Classifies one ping's output; throws PingToolError when ping itself did not work. */
export const classifyPing = (
  address: string,
  size: number,
  out: { stdout: string; stderr: string; exitCode: number },
): PingProbe => {
  const text = `${out.stdout}\n${out.stderr}`;
  const parsed = parsePing(text);
  const what = `ping -M do -s ${size - PING_OVERHEAD} ${address} (${size} bytes)`;
  const noRoute = /Network is unreachable|No route to host/i.test(text);
  if (!noRoute && parsed.transmitted === null && !parsed.messageTooLong && !parsed.fragNeeded) {
    const excerpt = text.trim().split('\n').slice(-2).join(' | ').slice(0, 200);
    throw new PingToolError(
      out.exitCode === 127 ? 'ping is not installed' : `ping did not run (exit ${out.exitCode}): ${excerpt}`,
    );
  }
  const passed = out.exitCode === 0 && (parsed.received ?? 0) > 0;
  const message = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /message too long|Frag(mentation)? needed|unreachable|No route/i.test(l));
  return {
    size,
    passed,
    reportedMtu: parsed.reportedMtu,
    noRoute,
    line: `${what}: ${passed ? 'reply' : (message ?? 'no reply')}`,
  };
};

export interface PathMeasurement {
  /** Largest packet that passed, up to `expected`; null when not even a small one did. */
  readonly largestPassed: number | null;
  readonly evidence: readonly string[];
  readonly pings: number;
}

/** Binary search for the largest passing size in [SMALL_PACKET, expected]. */
export const searchPathMtu = async (
  expected: number,
  ping: (size: number) => Promise<PingProbe>,
): Promise<PathMeasurement> => {
  let pings = 0;
  const send = async (size: number): Promise<PingProbe> => {
    pings++;
    return ping(size);
  };
  const first = await send(expected);
  if (first.passed) return { largestPassed: expected, evidence: [], pings };
  const small = Math.min(SMALL_PACKET, expected);
  if (first.noRoute || small === expected) return { largestPassed: null, evidence: [first.line], pings };
  const smallProbe = await send(small);
  if (!smallProbe.passed) return { largestPassed: null, evidence: [first.line, smallProbe.line], pings };
  let lo = smallProbe;
  let hi = first;
  let hint = first.reportedMtu;
  while (hi.size - lo.size > 1) {
    const mid =
      hint !== null && hint > lo.size && hint < hi.size ? hint : Math.floor((lo.size + hi.size) / 2);
    const probe = await send(mid);
    if (probe.passed) {
      lo = probe;
      // A size the kernel named passed: one above it settles it.
      hint = mid === hint ? mid + 1 : null;
    } else {
      hi = probe;
      hint = probe.reportedMtu;
    }
  }
  const evidence = [first.line, ...(hi === first ? [] : [hi.line]), lo.line];
  return { largestPassed: lo.size, evidence, pings };
};
