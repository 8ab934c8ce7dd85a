// `ping -c N [-W S] [-i I] [-M do] [-s SIZE] ADDR` answered from the model, printed like iputils 20221126:
// no route -> "connect: Network is unreachable"; DF and too big for the path MTU -> local errors;
// otherwise replies when the node (fleet) says the destination answers.
import type { VirtualNode } from '../model.ts';
import type { Output } from '../render/proc.ts';
import { err } from './ip.ts';

const ms = (n: number): string => n.toFixed(3);

export const pingCommand = (node: VirtualNode, argv: readonly string[]): Output => {
  let count = 4;
  let size = 56;
  let interval = 1;
  let dontFragment = false;
  let target: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => argv[++i] ?? '';
    if (a === '-c') count = Number(next());
    else if (a === '-s') size = Number(next());
    else if (a === '-i') interval = Number(next());
    else if (a === '-W' || a === '-w') next();
    else if (a === '-M') dontFragment = next() === 'do';
    else if (a === '-q' || a === '-n') continue;
    else if (a.startsWith('-')) return err(`ping: invalid option -- '${a.slice(1)}'`, 2);
    else target = a;
  }
  if (!target) return err('ping: usage error: Destination address required', 2);
  if (!Number.isInteger(count) || count < 1) return err(`ping: invalid argument: '${count}'`, 1);
  const route = node.routeGet(target);
  if ('ok' in route) return err('ping: connect: Network is unreachable', 2);
  const head = `PING ${target} (${target}) ${size}(${size + 28}) bytes of data.\n`;
  const time = `time ${Math.round((count - 1) * interval * 1000) + 2}ms`;
  const stats = (received: number, errors: number): string =>
    `\n--- ${target} ping statistics ---\n${count} packets transmitted, ${received} received, ${
      errors ? `+${errors} errors, ` : ''
    }${Math.round(((count - received) / count) * 100)}% packet loss, ${time}\n`;
  if (dontFragment && size + 28 > route.mtu) {
    return {
      stdout: `${head}${stats(0, count)}\n`,
      stderr: `ping: local error: message too long, mtu=${route.mtu}\n`.repeat(count),
      code: 1,
    };
  }
  if (!node.answersPing(route.dst, { from: node, route, size: size + 28 }))
    return { stdout: `${head}${stats(0, 0)}\n`, stderr: '', code: 1 };
  const ttl = route.type === 'local' ? 64 : route.gateway ? 63 : 64;
  const rtts = Array.from({ length: count }, (_, i) => 0.04 + ((i * 7) % 5) * 0.005);
  const avg = rtts.reduce((s, x) => s + x, 0) / count;
  const mdev = Math.sqrt(Math.max(0, rtts.reduce((s, x) => s + x * x, 0) / count - avg * avg));
  const replies = rtts
    .map((t, i) => `${size + 8} bytes from ${route.dst}: icmp_seq=${i + 1} ttl=${ttl} time=${ms(t)} ms\n`)
    .join('');
  return {
    stdout: `${head}${replies}${stats(count, 0)}rtt min/avg/max/mdev = ${ms(Math.min(...rtts))}/${ms(avg)}/${ms(Math.max(...rtts))}/${ms(mdev)} ms\n`,
    stderr: '',
    code: 0,
  };
};
