import { Command, Option } from 'commander';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { expectedBackendOption, failOnOption } from './report-flags.ts';
import { addNodeAccessOptions, nodeAccessOptions } from './node-access-flags.ts';
import { commaList } from './flag-parsers.ts';

export interface DoctorFlags {
  checks?: string[];
  skip?: string[];
  for?: string;
  backend?: string;
  failOn: 'fail' | 'warn';
  junitFile?: string;
}

export const doctorCommand = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('doctor')
      .description(
        'Check everything host-gw depends on, on every node: routes, L2 adjacency, rp_filter, MTU, kernel, flannel',
      )
      .option('--checks <ids>', 'run only these checks (comma-separated ids)', commaList)
      .option('--skip <ids>', 'skip these checks (comma-separated ids)', commaList)
      .addOption(
        new Option(
          '--for <backend>',
          'preflight for switching to this backend: can every node pair use it?',
        ).choices(['host-gw']),
      )
      .addOption(expectedBackendOption())
      .addOption(failOnOption())
      .option('--junit-file <file>', 'also write a JUnit XML report (one testcase per check and node)'),
  )
    .addHelpText(
      'after',
      `
Checks: flannel-health, config, subnet-env, backend-consistency, ip-masq, routes, l2-adjacency,
host-gw, rp-filter, mixed-window, mtu, flannel-logs, pod-sandbox, kernel, tune. --for host-gw runs
flannel-health, config, l2-adjacency, host-gw, rp-filter, mixed-window and kernel.

Exit codes: 0 nothing failing, 1 a finding failed (or warned, with --fail-on warn), 2 bad input,
3 facts incomplete (a node could not be reached).

Examples:
  flannelctl doctor                                   all checks, all nodes
  flannelctl doctor --for host-gw                     can this cluster switch to host-gw?
  flannelctl doctor -o json --junit-file doctor.xml   for CI
  flannelctl doctor --inventory nodes.yaml            before install: nodes only, no cluster API`,
    )
    .action(async (flags: DoctorFlags, command: Command) => {
      const { runDoctor } = await import('../diagnose/doctor.ts');
      await runDoctor(flags, globalOptions(command), nodeAccessOptions(command), io);
    });
