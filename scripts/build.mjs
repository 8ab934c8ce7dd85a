// Bundles src/ and its pure-JS dependencies into dist/ with code splitting, so each command loads only
// what it uses, from a few files: resolving and linking hundreds of package files is what made start-up
// slow (client-node alone costs ~660 ms to import from node_modules on Node 20, ~120 ms bundled).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: ['src/cli.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // ssh2 loads its optional native crypto binding (and cpu-features) relative to its own files: it stays
  // a runtime dependency so those keep working.
  external: ['ssh2', 'cpu-features'],
  // Bundled CommonJS packages call require() for Node built-ins and optional peers (ws's bufferutil).
  banner: {
    js: "import { createRequire as __flannelctlCreateRequire } from 'node:module';\nconst require = __flannelctlCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  logLevel: 'warning',
});
