// File-like commands: cat (regular files, /proc/sys, /proc/net/snmp), sysctl, uname, id, hostname, iptables.
import type { VirtualNode } from '../model.ts';
import { renderIptablesForward, renderSnmp, type Output } from '../render/proc.ts';
import { err, out } from './ip.ts';

/** A file's content, or undefined when it does not exist. */
export const readFile = (node: VirtualNode, path: string): string | undefined => {
  if (path === '/proc/net/snmp') return renderSnmp(node);
  if (path === '/proc/sys/kernel/hostname') return `${node.hostname}\n`;
  if (path.startsWith('/proc/sys/')) {
    const value = node.sysctls.get(path.slice('/proc/sys/'.length));
    return value === undefined ? undefined : `${value}\n`;
  }
  return node.files.get(path);
};

export const isDir = (node: VirtualNode, path: string): boolean =>
  node.dirs.has(path) || [...node.files.keys()].some((f) => f.startsWith(`${path}/`));

/** Names directly inside `dir`, in glob order. */
export const listDir = (node: VirtualNode, dir: string): string[] =>
  [...node.files.keys()]
    .filter((f) => f.startsWith(`${dir}/`) && !f.slice(dir.length + 1).includes('/'))
    .map((f) => f.slice(dir.length + 1))
    .sort();

export const catCommand = (node: VirtualNode, argv: readonly string[]): Output => {
  let stdout = '';
  let stderr = '';
  for (const path of argv) {
    const text = readFile(node, path);
    if (text === undefined)
      stderr += `cat: ${path}: ${isDir(node, path) ? 'Is a directory' : 'No such file or directory'}\n`;
    else stdout += text;
  }
  return { stdout, stderr, code: stderr === '' ? 0 : 1 };
};

/** procps: `a.b.c` names use dots (a slash stands for a dot inside a component); `a/b/c` is taken as is. */
const sysctlPath = (key: string): string =>
  /^[^.]*\//.test(key) ? key : key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));

export const sysctlCommand = (node: VirtualNode, argv: readonly string[]): Output => {
  let write = false;
  let valuesOnly = false;
  let stdout = '';
  let stderr = '';
  for (const arg of argv) {
    if (arg === '-w') write = true;
    else if (arg === '-n') valuesOnly = true;
    else if (arg === '-q') continue;
    else {
      const eq = arg.indexOf('=');
      const key = eq >= 0 ? arg.slice(0, eq) : arg;
      const path = sysctlPath(key);
      const name = path.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
      if (!node.sysctls.has(path)) {
        stderr += `sysctl: cannot stat /proc/sys/${path}: No such file or directory\n`;
        continue;
      }
      if (eq >= 0 || write) {
        const value = arg.slice(eq + 1);
        node.setSysctl(path, value);
        stdout += `${name} = ${value}\n`;
      } else stdout += valuesOnly ? `${node.sysctls.get(path)}\n` : `${name} = ${node.sysctls.get(path)}\n`;
    }
  }
  return { stdout, stderr, code: stderr === '' ? 0 : 255 };
};

export const iptablesCommand = (node: VirtualNode, argv: readonly string[]): Output => {
  if (argv[0] === '-V' || argv[0] === '--version') return out(`${node.iptablesVersion}\n`);
  if (argv[0] === '-S' && argv[1] === 'FORWARD') return out(renderIptablesForward(node));
  if (argv[0] === '-P' && argv[1] === 'FORWARD' && (argv[2] === 'ACCEPT' || argv[2] === 'DROP')) {
    node.forwardPolicy = argv[2];
    return out('');
  }
  return err(`iptables v1.8.9 (nf_tables): unsupported by the virtual node: ${argv.join(' ')}`, 2);
};

export const unameCommand = (node: VirtualNode, argv: readonly string[]): Output =>
  argv[0] === '-r' ? out(`${node.kernel}\n`) : out('Linux\n');

export const idCommand = (node: VirtualNode, argv: readonly string[]): Output =>
  argv[0] === '-u' ? out(`${node.uid}\n`) : out(`uid=${node.uid}(root) gid=0(root) groups=0(root)\n`);

export const hostnameCommand = (node: VirtualNode): Output => out(`${node.hostname}\n`);
