import { Command, Option } from 'commander';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import type { RbacFlags } from '../rbac/run.ts';

export const rbacCommand = (io: Io): Command =>
  new Command('rbac')
    .description(
      'Print the least-privilege RBAC (ServiceAccount, roles, bindings) a command needs, e.g. for CI',
    )
    .addOption(
      new Option('--for <command>', 'the command to grant')
        .choices(['doctor', 'migrate', 'install', 'bench'])
        .makeOptionMandatory(),
    )
    // Always so now (writes and execs are never granted cluster-wide); accepted so CI scripts keep working.
    .addOption(new Option('--namespace-scoped').hideHelp())
    .option('--service-account <name>', 'the ServiceAccount to bind', 'flannelctl')
    .option(
      '--sa-namespace <ns>',
      "the ServiceAccount's namespace (created when not a built-in one)",
      'default',
    )
    .addOption(
      new Option(
        '--node-access <how>',
        "with --for doctor or bench: how it reaches nodes (kube-exec adds pods and pods/exec, daemonset configmaps and daemonsets, in flannel's namespace)",
      )
        .choices(['ssh', 'kube-exec', 'daemonset'])
        .default('ssh'),
    )
    .addOption(
      new Option(
        '--bench-mode <mode>',
        "with --for bench: bench's --mode (host and both without SSH add hostNetwork pods in flannel's namespace)",
      ).choices(['pod', 'host', 'both']),
    )
    .option(
      '--bench-namespace <ns>',
      'with --for bench: the namespace bench runs its pods in',
      'flannelctl-bench',
    )
    .addHelpText(
      'after',
      `
Prints YAML (-o json: a v1 List) for \`kubectl apply -f -\`; nothing is sent to a cluster. -n sets
flannel's namespace (default kube-flannel). Each rule carries a comment saying why it is needed.
Every write and exec (pods, pods/exec, daemonsets, configmaps) is granted by a Role in flannel's
namespace (bench: its own namespace) only; cluster-wide are reads such as nodes and events.

Examples:
  flannelctl rbac --for doctor | kubectl apply -f -
  flannelctl rbac --for migrate --service-account ci --sa-namespace ci
  flannelctl rbac --for bench --bench-mode both --node-access kube-exec`,
    )
    .action(async (flags: RbacFlags, command: Command) => {
      const { runRbac } = await import('../rbac/run.ts');
      runRbac(flags, globalOptions(command), io);
    });
