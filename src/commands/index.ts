import type { Command } from 'commander';
import type { Io } from '../io.ts';
import { benchCommand } from './bench.ts';
import { demoCommand } from './demo.ts';
import { doctorCommand } from './doctor.ts';
import { installCommand } from './install.ts';
import { migrateCommand } from './migrate.ts';
import { checkRpFilterCommand } from './check-rpfilter.ts';
import { statusCommand } from './status.ts';
import { tuneCommand } from './tune.ts';
import { verifyL2Command } from './verify-l2.ts';
import { mtuProbeCommand } from './mtu-probe.ts';
import { rbacCommand } from './rbac.ts';

/** Each command module exports a factory; a command is listed here once it works. */
export type CommandFactory = (io: Io) => Command;

export const commandModules: readonly CommandFactory[] = [
  installCommand,
  migrateCommand,
  doctorCommand,
  mtuProbeCommand,
  verifyL2Command,
  checkRpFilterCommand,
  tuneCommand,
  statusCommand,
  rbacCommand,
  benchCommand,
  demoCommand,
];
