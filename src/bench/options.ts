// bench's flags, validated into options before anything touches the cluster or a node (exit 2).
// Every value here ends up in a pod spec or on a node's command line, so each has a strict form.
import { isIP } from 'node:net';
import { parseDuration } from '../duration.ts';
import { UsageError } from '../errors.ts';
import type { BenchMode } from './result.ts';

/** What commander hands over (strings and numbers as typed). */
export interface BenchFlags {
  mode?: string;
  from?: string;
  to?: string;
  benchNamespace?: string;
  image?: string;
  pingImage?: string;
  imagePullSecret?: string[];
  toleration?: string[];
  duration?: string;
  streams?: string;
  reverse?: boolean;
  udpRate?: string;
  latencyCount?: string;
  repeat?: string;
  port?: string;
  save?: string;
  failBelow?: string;
  failAboveRtt?: string;
  failBelowEfficiency?: string;
}

export interface Toleration {
  readonly key?: string;
  readonly operator: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export type RttPercentile = 'p50' | 'p90' | 'p99';

export interface Thresholds {
  /** Gbit/s: fail when the measured median is lower. */
  readonly minGbps?: number;
  /** ms: fail when this RTT percentile is higher. */
  readonly maxRtt?: { readonly percentile: RttPercentile; readonly ms: number };
  /** Percent: fail when pod/host throughput is lower (needs --mode both). */
  readonly minEfficiencyPercent?: number;
}

export interface BenchOptions {
  readonly mode: BenchMode;
  readonly from?: string;
  readonly to?: string;
  readonly namespace: string;
  readonly image: string;
  readonly pingImage: string;
  readonly imagePullSecrets: readonly string[];
  readonly tolerations: readonly Toleration[];
  readonly durationSeconds: number;
  readonly streams: number;
  readonly reverse: boolean;
  /** bit/s; undefined = no UDP test. */
  readonly udpRate?: number;
  /** 0 = no latency test. */
  readonly latencyCount: number;
  readonly repeat: number;
  readonly port: number;
  readonly save?: string;
  readonly thresholds: Thresholds;
}

export const DEFAULTS = {
  mode: 'pod',
  namespace: 'flannelctl-bench',
  image: 'networkstatic/iperf3',
  pingImage: 'busybox:1.36',
  duration: 10,
  streams: 1,
  latencyCount: 20,
  repeat: 3,
  port: 5201,
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// registry[:port]/path[:tag][@sha256:…], as a container runtime accepts it.
const IMAGE =
  /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

const wholeNumber = (flag: string, text: string | undefined, fallback: number, min: number, max: number) => {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(`${flag} takes a whole number, not ${JSON.stringify(text)}`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${flag} ${n} is not between ${min} and ${max}`);
  return n;
};

/** --duration like every time flag (10s, 1m; a bare number is seconds), in whole seconds for iperf3 -t. */
const durationSeconds = (text: string | undefined): number => {
  if (text === undefined) return DEFAULTS.duration;
  const ms = parseDuration(text, '--duration');
  if (ms % 1000 !== 0 || ms < 1000 || ms > 3_600_000)
    throw new UsageError(
      `--duration ${text} is not a whole number of seconds between 1s and 1h`,
      'iperf3 -t takes whole seconds: e.g. --duration 10s or --duration 1m',
    );
  return ms / 1000;
};

const positiveNumber = (flag: string, text: string, example: string): number => {
  const n = Number(text.trim());
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(n > 0))
    throw new UsageError(
      `${flag} takes a positive number, not ${JSON.stringify(text)}`,
      `e.g. ${flag} ${example}`,
    );
  return n;
};

/** iperf3's -b syntax: 500M, 1G, 1.5G, 100000 (bit/s). */
export const parseRate = (text: string, flag = '--udp-rate'): number => {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text.trim());
  if (!m)
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a rate`, `e.g. ${flag} 1G or 500M (bit/s)`);
  const factor = { '': 1, K: 1e3, M: 1e6, G: 1e9 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  const rate = Math.round(Number(m[1]) * factor);
  if (rate < 1000 || rate > 400e9)
    throw new UsageError(`${flag} ${text} is outside 1K–400G`, `e.g. ${flag} 1G`);
  return rate;
};

/** kubectl taint syntax: key[=value]:Effect, key (any effect), or "all" (tolerate every taint). */
export const parseToleration = (text: string): Toleration => {
  const spec = text.trim();
  if (spec === 'all') return { operator: 'Exists' };
  const m = /^([^=:]+)(?:=([^:]*))?(?::([A-Za-z]+))?$/.exec(spec);
  const hint =
    'e.g. --toleration node-role.kubernetes.io/control-plane:NoSchedule, --toleration dedicated=net, or all';
  if (!m || !LABEL_KEY.test(m[1]!))
    throw new UsageError(`--toleration ${JSON.stringify(text)} is not key[=value][:effect]`, hint);
  const [, key, value, effect] = m;
  if (value !== undefined && !LABEL_VALUE.test(value))
    throw new UsageError(
      `--toleration ${JSON.stringify(text)}: ${JSON.stringify(value)} is not a label value`,
      hint,
    );
  if (effect !== undefined && !(EFFECTS as readonly string[]).includes(effect))
    throw new UsageError(
      `--toleration ${JSON.stringify(text)}: effect must be one of ${EFFECTS.join(', ')}`,
      hint,
    );
  return {
    key: key!,
    operator: value === undefined ? 'Exists' : 'Equal',
    ...(value !== undefined ? { value } : {}),
    ...(effect !== undefined ? { effect: effect as Toleration['effect'] } : {}),
  };
};

/** "0.5" (the median) or "p99=1.2". */
export const parseRttThreshold = (text: string): { percentile: RttPercentile; ms: number } => {
  const m = /^(?:(p50|p90|p99)=)?(.+)$/.exec(text.trim());
  return {
    percentile: (m?.[1] as RttPercentile | undefined) ?? 'p50',
    ms: positiveNumber('--fail-above-rtt', m?.[2] ?? '', '0.5 or p99=2'),
  };
};

const image = (flag: string, text: string): string => {
  if (!IMAGE.test(text) || text.length > 512)
    throw new UsageError(
      `${flag} ${JSON.stringify(text)} is not an image reference`,
      `e.g. ${flag} registry.local:5000/networkstatic/iperf3:latest`,
    );
  return text;
};

const nodeName = (flag: string, text: string | undefined): string | undefined => {
  if (text === undefined) return undefined;
  if (!DNS_SUBDOMAIN.test(text) || text.length > 253)
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not a node name`);
  return text;
};

export const validateBenchFlags = (flags: BenchFlags): BenchOptions => {
  const mode = (flags.mode ?? DEFAULTS.mode) as BenchMode;
  if (!['pod', 'host', 'both'].includes(mode))
    throw new UsageError(`--mode ${mode}: choose pod, host or both`);
  const from = nodeName('--from', flags.from);
  const to = nodeName('--to', flags.to);
  if (from !== undefined && from === to)
    throw new UsageError(`--from and --to are both ${from}`, 'bench measures between two different nodes');
  const namespace = flags.benchNamespace ?? DEFAULTS.namespace;
  if (!DNS_LABEL.test(namespace) || namespace.length > 63)
    throw new UsageError(`--bench-namespace ${JSON.stringify(namespace)} is not a namespace name`);
  for (const secret of flags.imagePullSecret ?? [])
    if (!DNS_SUBDOMAIN.test(secret))
      throw new UsageError(`--image-pull-secret ${JSON.stringify(secret)} is not a Secret name`);
  const failBelow =
    flags.failBelow === undefined ? undefined : positiveNumber('--fail-below', flags.failBelow, '5 (Gbit/s)');
  const efficiency =
    flags.failBelowEfficiency === undefined
      ? undefined
      : positiveNumber(
          '--fail-below-efficiency',
          flags.failBelowEfficiency,
          '80 (percent of the host baseline)',
        );
  if (efficiency !== undefined && mode !== 'both')
    throw new UsageError(
      '--fail-below-efficiency needs --mode both',
      'efficiency is pod throughput over the host baseline',
    );
  const latencyCount = wholeNumber('--latency-count', flags.latencyCount, DEFAULTS.latencyCount, 0, 10_000);
  const maxRtt = flags.failAboveRtt === undefined ? undefined : parseRttThreshold(flags.failAboveRtt);
  if (maxRtt && latencyCount === 0)
    throw new UsageError('--fail-above-rtt needs a latency test', 'drop --latency-count 0');
  return {
    mode,
    ...(from !== undefined ? { from } : {}),
    ...(to !== undefined ? { to } : {}),
    namespace,
    image: image('--image', flags.image ?? DEFAULTS.image),
    pingImage: image('--ping-image', flags.pingImage ?? DEFAULTS.pingImage),
    imagePullSecrets: [...new Set(flags.imagePullSecret ?? [])],
    tolerations: (flags.toleration ?? []).map(parseToleration),
    durationSeconds: durationSeconds(flags.duration),
    streams: wholeNumber('--streams', flags.streams, DEFAULTS.streams, 1, 128),
    reverse: Boolean(flags.reverse),
    ...(flags.udpRate !== undefined ? { udpRate: parseRate(flags.udpRate) } : {}),
    latencyCount,
    repeat: wholeNumber('--repeat', flags.repeat, DEFAULTS.repeat, 1, 100),
    port: wholeNumber('--port', flags.port, DEFAULTS.port, 1024, 65535),
    ...(flags.save !== undefined ? { save: flags.save } : {}),
    thresholds: {
      ...(failBelow !== undefined ? { minGbps: failBelow } : {}),
      ...(maxRtt ? { maxRtt } : {}),
      ...(efficiency !== undefined ? { minEfficiencyPercent: efficiency } : {}),
    },
  };
};

/** Node addresses reach a node's shell; only plain IP literals are used there. */
export const requireIp = (what: string, address: string): string => {
  if (isIP(address) === 0) throw new UsageError(`${what}: ${JSON.stringify(address)} is not an IP address`);
  return address;
};
