import type { GlobalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import type { ObjectRef } from '../kube/kube-object.ts';
import { displayName } from '../kube/kube-object.ts';
import type { ObjectAction } from './plan.ts';
import { printJson } from '../report/print-json.ts';
import { printYaml } from '../report/print-yaml.ts';

export interface InstallResult {
  readonly apiVersion: 'flannelctl/v1';
  readonly kind: 'InstallResult';
  readonly namespace: string;
  readonly backend: string;
  readonly network: string;
  readonly flannelVersion: string;
  /** False when the cluster already matched: a second run changes nothing. */
  readonly changed: boolean;
  readonly restarted: boolean;
  readonly objects: readonly (ObjectRef & { action: ObjectAction })[];
  readonly rollout?: {
    readonly done: boolean;
    readonly message: string;
    readonly nodes: readonly { node: string; pod?: string; ready: boolean }[];
  };
}

export const writeInstallResult = (result: InstallResult, globals: GlobalOptions, io: Io): void => {
  if (globals.output === 'json') {
    io.stdout.write(printJson(result));
    return;
  }
  if (globals.output === 'yaml') {
    io.stdout.write(printYaml(result));
    return;
  }
  const lines = result.objects.map((o) => `${displayName(o)} ${o.action}`);
  if (result.restarted) lines.push(`daemonset.apps/kube-flannel-ds restarted`);
  const ready = result.rollout?.nodes.filter((n) => n.ready).length ?? 0;
  const total = result.rollout?.nodes.length ?? 0;
  lines.push('');
  lines.push(
    result.changed
      ? `Flannel ${result.flannelVersion} (${result.backend}, network ${result.network}) is installed in ${result.namespace}; ${ready}/${total} nodes ready.`
      : `No changes: flannel ${result.flannelVersion} (${result.backend}, network ${result.network}) is already installed in ${result.namespace} as requested; ${ready}/${total} nodes ready.`,
  );
  lines.push('Next: `flannelctl doctor` checks routes, rp_filter and MTU on every node.');
  io.stdout.write(`${lines.join('\n')}\n`);
};
