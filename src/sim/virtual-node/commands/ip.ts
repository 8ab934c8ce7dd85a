// The `ip` subset flannelctl's scripts use: show (text/JSON, -d, -6), route get/add/replace/del,
// link del/set mtu|up|down, neigh replace/add/del. Errors are printed as iproute2 6.1 prints them.
import type { Family, KernelResult, RouteSpec, VirtualNode } from '../model.ts';
import type { Output } from '../render/proc.ts';
import { renderAddrJson, renderAddrText } from '../render/ip-addr.ts';
import { linkJson, linkText, renderLinksJson, renderLinksText } from '../render/ip-link.ts';
import { renderNeighJson, renderNeighText } from '../render/ip-neigh.ts';
import { jsonLines } from '../render/json.ts';
import { renderRoutesJson, renderRoutesText, routeGetJson, routeGetText } from '../render/ip-route.ts';

export const out = (stdout: string, code = 0): Output => ({ stdout, stderr: '', code });
export const err = (message: string, code: number): Output => ({ stdout: '', stderr: `${message}\n`, code });
export const fromKernel = (r: KernelResult): Output => (r.ok ? out('') : err(r.message, r.code));

interface IpOptions {
  json: boolean;
  details: boolean;
  family: Family;
}

const is = (word: string | undefined, ...names: string[]): boolean =>
  word !== undefined && names.includes(word);

/** `key value` pairs after the positional argument(s); bare flags map to ''. */
const pairs = (args: readonly string[], flags: readonly string[]): Map<string, string> => {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const k = args[i]!;
    if (flags.includes(k)) m.set(k, '');
    else m.set(k, args[++i] ?? '');
  }
  return m;
};

const route = (node: VirtualNode, o: IpOptions, args: string[]): Output => {
  const [verb, ...rest] = args;
  if (verb === undefined || is(verb, 'show', 'list', 'ls')) {
    return o.json
      ? out(renderRoutesJson(node, o.family, o.details))
      : out(renderRoutesText(node, o.family, o.details));
  }
  if (verb === 'get') {
    const a = node.routeGet(rest[0] ?? '');
    if ('ok' in a) return fromKernel(a);
    return out(o.json ? routeGetJson(a) : routeGetText(a));
  }
  if (is(verb, 'add', 'replace', 'del', 'delete', 'change')) {
    const [dst, ...more] = rest;
    if (!dst) return err('Error: Invalid "ip route" arguments.', 1);
    const p = pairs(more, ['onlink']);
    if (is(verb, 'del', 'delete')) {
      return fromKernel(
        node.routeDel({
          dst,
          ...(p.has('via') ? { gateway: p.get('via')! } : {}),
          ...(p.has('dev') ? { dev: p.get('dev')! } : {}),
        }),
      );
    }
    const num = (k: string): number | null => (p.has(k) ? Number(p.get(k)) : null);
    const spec: RouteSpec = {
      dst,
      gateway: p.get('via') ?? null,
      dev: p.get('dev') ?? null,
      onlink: p.has('onlink'),
      ...(p.has('proto') ? { protocol: p.get('proto')! } : {}),
      ...(p.has('scope') ? { scope: p.get('scope') as RouteSpec['scope'] } : {}),
      prefsrc: p.get('src') ?? null,
      metric: num('metric'),
      mtu: num('mtu'),
    };
    return fromKernel(verb === 'add' ? node.routeAdd(spec) : node.routeReplace(spec));
  }
  return err(`Command "${verb}" is unknown, try "ip route help".`, 1);
};

const link = (node: VirtualNode, o: IpOptions, args: string[]): Output => {
  const [verb, ...rest] = args;
  if (verb === undefined || is(verb, 'show', 'list', 'ls')) {
    const name = rest[0] === 'dev' ? rest[1] : rest[0];
    if (name === undefined)
      return out(o.json ? renderLinksJson(node, o.details) : renderLinksText(node, o.details));
    const l = node.link(name);
    if (!l) return err(`Device "${name}" does not exist.`, 1);
    const opts = { details: o.details, forAddr: false };
    return out(o.json ? jsonLines([linkJson(node, l, opts)]) : linkText(node, l, opts));
  }
  if (is(verb, 'del', 'delete'))
    return fromKernel(node.linkDel(rest[0] === 'dev' ? (rest[1] ?? '') : (rest[0] ?? '')));
  if (verb === 'set') {
    const words = rest[0] === 'dev' ? rest.slice(1) : rest;
    const [name = '', ...settings] = words;
    const l = node.link(name);
    if (!l) return err(`Cannot find device "${name}"`, 1);
    for (let i = 0; i < settings.length; i++) {
      const s = settings[i];
      if (s === 'up' || s === 'down') l.up = s === 'up';
      else if (s === 'mtu') {
        const value = settings[++i] ?? '';
        if (!/^\d+$/.test(value)) return err(`Error: argument "${value}" is wrong: Invalid "mtu" value`, 255);
        const r = node.linkSetMtu(name, Number(value));
        if (!r.ok) return fromKernel(r);
      } else return err(`Error: either "dev" is duplicate, or "${s}" is a garbage.`, 1);
    }
    return out('');
  }
  return err(`Command "${verb}" is unknown, try "ip link help".`, 1);
};

const neigh = (node: VirtualNode, o: IpOptions, args: string[]): Output => {
  const [verb, ...rest] = args;
  if (verb === undefined || is(verb, 'show', 'list', 'ls'))
    return out(o.json ? renderNeighJson(node) : renderNeighText(node));
  const [dst = '', ...more] = rest;
  const p = pairs(more, ['router', 'proxy', 'extern_learn']);
  if (is(verb, 'del', 'delete')) return fromKernel(node.neighDel(dst, p.get('dev') ?? ''));
  if (is(verb, 'add', 'replace', 'change')) {
    if (verb === 'add' && node.neighbours.some((n) => n.dst === dst && n.dev === p.get('dev')))
      return err('RTNETLINK answers: File exists', 2);
    return fromKernel(
      node.neighReplace({
        dst,
        dev: p.get('dev') ?? '',
        lladdr: p.get('lladdr') ?? null,
        state: (p.get('nud') ?? 'permanent').toUpperCase(),
      }),
    );
  }
  return err(`Command "${verb}" is unknown, try "ip neigh help".`, 1);
};

const OBJECTS: readonly [readonly string[], (node: VirtualNode, o: IpOptions, args: string[]) => Output][] = [
  [['route', 'r', 'ro', 'rou'], route],
  [['link', 'l', 'li'], link],
  [['neigh', 'n', 'neighbor', 'neighbour'], neigh],
  [
    ['addr', 'a', 'address', 'ad'],
    (node, o) => out(o.json ? renderAddrJson(node, o.details) : renderAddrText(node, o.details)),
  ],
];

export const ipCommand = (node: VirtualNode, argv: readonly string[]): Output => {
  const o: IpOptions = { json: false, details: false, family: 'inet' };
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const flag = argv[i]!;
    if (flag === '-V' || flag === '-Version') return out(`${node.ipVersion}\n`);
    if (is(flag, '-j', '-json')) o.json = true;
    else if (is(flag, '-d', '-details')) o.details = true;
    else if (flag === '-6') o.family = 'inet6';
    else if (flag === '-4') o.family = 'inet';
    else return err(`Option "${flag}" is unknown, try "ip -help".`, 255);
  }
  const object = argv[i];
  const handler = OBJECTS.find(([names]) => names.includes(object ?? ''))?.[1];
  if (!handler) return err(`Object "${object ?? ''}" is unknown, try "ip help".`, 1);
  return handler(node, o, argv.slice(i + 1));
};
