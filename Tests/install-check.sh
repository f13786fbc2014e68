#!/usr/bin/env bash
# scripts/install.sh end to end into a temporary PREFIX: the binary runs, the three completion
# scripts complete its commands, and --uninstall removes exactly what was installed.
#   bash Tests/install-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
bash scripts/install.sh "$prefix" > /dev/null
"$prefix/bin/headstart" --version | head -n 1 | grep -q '^headstart ' || { echo "install-check: headstart --version failed"; exit 1; }
for script in share/bash-completion/completions/headstart share/zsh/site-functions/_headstart \
  share/fish/vendor_completions.d/headstart.fish; do
  for command in extract merge fit-heads finetune predict; do
    grep -q -- "$command" "$prefix/$script" || { echo "install-check: $script does not complete $command"; exit 1; }
  done
done
bash scripts/install.sh --uninstall "$prefix" > /dev/null
left=$(find "$prefix" -type f | wc -l)
[ "$left" -eq 0 ] || { echo "install-check: --uninstall left $left files"; exit 1; }
echo "install-check: installed, completions for every command, uninstalled cleanly"
