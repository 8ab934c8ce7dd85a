// Every namespace and link carries a per-run prefix; link names must stay within IFNAMSIZ (15 chars).
import { randomBytes } from 'node:crypto';

/** All lab prefixes start with this, so scripts/lab-cleanup.sh can find leftovers. */
export const LAB_FAMILY = 'flab';

export const newLabPrefix = (): string => `${LAB_FAMILY}${randomBytes(3).toString('hex').slice(0, 4)}`;

export const linkName = (prefix: string, suffix: string): string => {
  const name = `${prefix}${suffix}`;
  if (name.length > 15) throw new Error(`lab: link name ${name} is longer than 15 characters`);
  return name;
};

export const names = (prefix: string) => ({
  switchNs: `${prefix}-sw`,
  switch2Ns: `${prefix}-sw2`,
  routerNs: `${prefix}-rt`,
  nodeNs: (node: string) => `${prefix}-${node}`,
  bridge: linkName(prefix, 'br'),
  bridge2: linkName(prefix, 'br2'),
  mgmtRoot: linkName(prefix, 'm'),
  mgmtSwitch: linkName(prefix, 'ms'),
  nodeUplink: (index: number) => linkName(prefix, `n${index}`),
  switchPort: (index: number) => linkName(prefix, `s${index}`),
  routerPort: (side: number) => linkName(prefix, `r${side}`),
  routerSwitchPort: (side: number) => linkName(prefix, `r${side}s`),
});
