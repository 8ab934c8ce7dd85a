// Runs node's test runner over an explicit file list: on Node 20 `node --test <dir>` silently finds
// zero tests and exits 0. Usage: node scripts/run-tests.mjs [unit|e2e|lab ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const suites = process.argv.slice(2);
const roots = (suites.length ? suites : ['unit', 'e2e', 'lab']).map((s) => join('test', s));
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
};
for (const root of roots) {
  try {
    walk(root);
  } catch {
    /* suite folder absent */
  }
}
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-timeout=600000', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
