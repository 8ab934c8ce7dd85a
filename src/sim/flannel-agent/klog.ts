// flanneld logs through klog: "I1126 12:00:00.000000       1 main.go:211] text". Lines keep that
// header so `kubectl logs` looks like a real flannel pod and log-signature checks match.

export type Severity = 'I' | 'W' | 'E';

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** One klog line (no trailing newline); `pid` is the thread id column, 1 in a container. */
export const klogLine = (severity: Severity, at: Date, source: string, text: string, pid = 1): string =>
  `${severity}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())} ` +
  `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}.${pad(at.getUTCMilliseconds(), 3)}000 ` +
  `${String(pid).padStart(7)} ${source}] ${text}`;

export interface Klog {
  info(source: string, text: string): void;
  warning(source: string, text: string): void;
  error(source: string, text: string): void;
}

/** A Klog that hands each formatted line to `sink`. */
export const createKlog = (sink: (line: string) => void, now: () => Date = () => new Date()): Klog => ({
  info: (source, text) => sink(klogLine('I', now(), source, text)),
  warning: (source, text) => sink(klogLine('W', now(), source, text)),
  error: (source, text) => sink(klogLine('E', now(), source, text)),
});
