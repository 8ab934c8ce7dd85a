#!/usr/bin/env node
// kubectl plugin entry: `kubectl flannel doctor` runs `flannelctl doctor`.
import { main } from '../dist/cli.js';

process.exitCode = await main(process.argv, { programName: 'kubectl flannel' });
