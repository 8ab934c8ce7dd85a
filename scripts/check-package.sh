#!/usr/bin/env bash
# Packs flannelctl, installs the tarball globally into a throwaway prefix (as a user would on a machine
# without the repo) and runs it, including as a kubectl plugin.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
echo "packed $tarball:"
tar -tzf "$work/$tarball" | sed 's/^/  /'
if tar -tzf "$work/$tarball" | grep -Ev '^package/(bin/|dist/.*\.js$|README\.md$|LICENSE$|package\.json$)'; then
  echo "the package holds files that do not run (above)" >&2
  exit 1
fi
npm install --global --prefix "$work/prefix" --no-audit --no-fund "$work/$tarball" >/dev/null
export PATH="$work/prefix/bin:$PATH"
cd "$work"
flannelctl --version
flannelctl install --dry-run --backend host-gw -o json | grep -q '"kind": "DaemonSet"'
if command -v kubectl >/dev/null 2>&1; then
  kubectl flannel --help | head -n 3
else
  kubectl-flannel --help | head -n 3
fi
echo "package OK"
