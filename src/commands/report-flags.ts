import { Option } from 'commander';

/** --backend for commands that judge nodes without a ConfigMap to say what they should run. */
export const expectedBackendOption = (): Option =>
  new Option(
    '--backend <type>',
    'the backend nodes should run when there is no ConfigMap (--inventory mode)',
  ).choices(['host-gw', 'vxlan']);

/** --fail-on: which findings make the exit code 1. */
export const failOnOption = (): Option =>
  new Option('--fail-on <severity>', 'exit 1 on findings of this severity or worse')
    .choices(['fail', 'warn'])
    .default('fail');
