// ping output (iputils and BusyBox), including the DF-probe failures that reveal the path MTU:
// `ping: local error: message too long, mtu=1450` (the local route/device is smaller) and
// `From 10.0.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)` (a hop on the path is smaller).

export interface PingRtt {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  /** iputils only. */
  readonly mdev: number | null;
}

export interface PingResult {
  readonly transmitted: number | null;
  readonly received: number | null;
  readonly lossPercent: number | null;
  /** iputils' `+N errors` (ICMP errors and local errors). */
  readonly errors: number;
  readonly rtt: PingRtt | null;
  /** A router answered "Frag needed and DF set". */
  readonly fragNeeded: boolean;
  /** The local stack refused the packet: "message too long". */
  readonly messageTooLong: boolean;
  /** The MTU named by either of those messages. */
  readonly reportedMtu: number | null;
}

export const parsePing = (text: string): PingResult => {
  const stats =
    /(\d+) packets transmitted, (\d+) (?:packets )?received(?:, \+(\d+) errors)?(?:, \+\d+ duplicates)?(?:, \+\d+ corrupted)?, ([\d.]+)% packet loss/.exec(
      text,
    );
  const rtt =
    /(?:rtt|round-trip) min\/avg\/max(?:\/mdev)? = ([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/([\d.]+))? ms/.exec(text);
  const fragNeeded = /Frag(?:mentation)? needed/i.test(text);
  const messageTooLong = /message too long/i.test(text);
  const mtu = /mtu\s*=\s*(\d+)/i.exec(text);
  return {
    transmitted: stats ? Number(stats[1]) : null,
    received: stats ? Number(stats[2]) : null,
    lossPercent: stats ? Number(stats[4]) : null,
    errors: stats?.[3] === undefined ? 0 : Number(stats[3]),
    rtt: rtt
      ? {
          min: Number(rtt[1]),
          avg: Number(rtt[2]),
          max: Number(rtt[3]),
          mdev: rtt[4] === undefined ? null : Number(rtt[4]),
        }
      : null,
    fragNeeded,
    messageTooLong,
    reportedMtu: (fragNeeded || messageTooLong) && mtu ? Number(mtu[1]) : null,
  };
};

/** Every reply's round-trip time in ms, in order (iputils and BusyBox): the basis of latency percentiles. */
export const pingReplyTimes = (text: string): number[] =>
  [...text.matchAll(/\bbytes from .*? time[=<]([\d.]+) ?ms/g)].map((m) => Number(m[1]));
