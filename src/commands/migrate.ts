import { Command, Option } from 'commander';
import { globalOptions } from '../global-options.ts';
import type { Io } from '../io.ts';
import { DAEMONSET_READ_ONLY, addNodeAccessOptions, nodeAccessOptions } from './node-access-flags.ts';

export interface MigrateFlags {
  to?: 'host-gw' | 'vxlan';
  directRouting?: boolean;
  dryRun?: boolean;
  force?: boolean;
  cleanup?: boolean;
  watchConnectivity?: boolean;
  resume?: boolean;
  rollback?: boolean;
  restoreBackup?: boolean;
  backupFile?: string;
  backupDir?: string;
}

export const migrateCommand = (io: Io): Command =>
  addNodeAccessOptions(
    new Command('migrate')
      .description(
        "Switch a live cluster's flannel backend (vxlan <-> host-gw) safely: preflight, backup, rolling restart with per-node verification, automatic rollback",
      )
      .addOption(new Option('--to <backend>', 'the backend to migrate to').choices(['host-gw', 'vxlan']))
      .option('--direct-routing', 'with --to vxlan: host-gw routes where nodes share L2, vxlan elsewhere')
      .option('--dry-run', 'print the plan and the exact API requests; change nothing')
      .option('--force', 'proceed past failed preflight checks (recorded in the migration state)')
      .option('--cleanup', 'after convergence delete the leftover flannel.1 on every node without asking')
      .option(
        '--watch-connectivity',
        'during the rollout, ping a pod on every peer (its pod IP from the API) from every node; nodes without pods are not watched',
      )
      .option('--resume', 'continue an unfinished migration recorded on the ConfigMap')
      .option(
        '--rollback',
        "put the backup's Backend back into net-conf.json (other edits kept) and restart; stops with a three-way diff if someone else changed the Backend",
      )
      .option(
        '--restore-backup',
        'with --rollback: restore the whole backup byte for byte (every data and binaryData key), reverting every edit made since',
      )
      .option('--backup-file <file>', 'with --rollback: restore from this local backup file')
      .option('--backup-dir <dir>', 'where the local backup is written (default ~/.flannelctl/backups)'),
  )
    .addHelpText(
      'after',
      `
Verification: every node's backend-type annotation and routes, then pings from every node to pods on
its peers (Running, non-hostNetwork pods, by pod IP). A node without pods has no cni0 and nothing to
reach: it is verified at node level and reported as such (verification: node-level), never failed.

Exit codes: 0 migrated (or nothing to do), 1 refused by preflight, rolled back, stopped by someone
else's edit of net-conf.json, or a rollback refused because the Backend changed since (the three-way
diff is printed), 2 bad input (nothing changed), 3 migrated but a node could not be verified
(unreachable).

Examples:
  flannelctl migrate --to host-gw --dry-run           the plan, the diff and the exact API requests
  flannelctl migrate --to host-gw --watch-connectivity --cleanup
  flannelctl migrate --to vxlan --direct-routing      the hybrid, when some nodes do not share L2
  flannelctl migrate --rollback                       put back the Backend from before the migration
  flannelctl migrate --rollback --restore-backup      the whole ConfigMap data as backed up, byte for byte`,
    )
    .action(async (flags: MigrateFlags, command: Command) => {
      const access = nodeAccessOptions(command);
      // migrate's node commands (cleanup, connectivity pings between restarts) are not one read-only batch.
      if (access.mode === 'daemonset' && !flags.dryRun) throw DAEMONSET_READ_ONLY('migrate');
      const { runMigrate } = await import('../migrate/run.ts');
      await runMigrate(flags, globalOptions(command), access, io);
    });
