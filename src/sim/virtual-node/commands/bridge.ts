// `bridge [-j] fdb show dev X`, `bridge fdb append|add|replace MAC dev X dst IP`, `bridge fdb del MAC dev X [dst IP]`.
import type { VirtualNode } from '../model.ts';
import type { Output } from '../render/proc.ts';
import { renderFdbJson, renderFdbText } from '../render/ip-neigh.ts';
import { err, fromKernel, out } from './ip.ts';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export const bridgeCommand = (node: VirtualNode, argv: readonly string[]): Output => {
  const json = argv[0] === '-j' || argv[0] === '-json';
  const [object, verb, ...rest] = json ? argv.slice(1) : argv;
  if (object !== 'fdb') return err(`Object "${object ?? ''}" is unknown, try "bridge help".`, 1);
  const value = (key: string): string | undefined => {
    const at = rest.indexOf(key);
    return at >= 0 ? rest[at + 1] : undefined;
  };
  const dev = value('dev') ?? '';
  if (verb === undefined || verb === 'show') {
    if (!node.link(dev)) return err(`Cannot find device "${dev}"`, 1);
    return out(json ? renderFdbJson(node, dev) : renderFdbText(node, dev));
  }
  const mac = (rest[0] ?? '').toLowerCase();
  if (!MAC.test(mac)) return err(`Invalid mac address ${rest[0] ?? ''}`, 255);
  if (verb === 'append' || verb === 'add' || verb === 'replace') {
    const dst = value('dst') ?? null;
    if (verb === 'replace') node.fdbDel(mac, dev);
    return fromKernel(node.fdbAppend({ mac, dev, dst }));
  }
  if (verb === 'del' || verb === 'delete') return fromKernel(node.fdbDel(mac, dev, value('dst')));
  return err(`Command "${verb}" is unknown, try "bridge fdb help".`, 1);
};
