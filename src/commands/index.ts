import type { Command } from 'commander';
import type { Io } from '../io.ts';
import { doctorCommand } from './doctor.ts';
import { installCommand } from './install.ts';
import { migrateCommand } from './migrate.ts';
import { mtuProbeCommand } from './mtu-probe.ts';

/** Each command module exports a factory; a command is listed here once it works. */
export type CommandFactory = (io: Io) => Command;

export const commandModules: readonly CommandFactory[] = [
  installCommand,
  migrateCommand,
  doctorCommand,
  mtuProbeCommand,
];
