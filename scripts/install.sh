#!/usr/bin/env bash
# Builds `headstart` in release mode and installs it with its shell completions:
#
#   bash scripts/install.sh [PREFIX]               # default PREFIX: /usr/local
#   bash scripts/install.sh --uninstall [PREFIX]   # removes exactly the files below
#
# Installed:
#   PREFIX/bin/headstart
#   PREFIX/share/bash-completion/completions/headstart
#   PREFIX/share/zsh/site-functions/_headstart
#   PREFIX/share/fish/vendor_completions.d/headstart.fish
#
# The system libraries it links (HDF5, OpenBLAS, libjpeg-turbo, libpng) come from
# scripts/install-deps.sh, which this runs first; they stay installed on --uninstall.
set -euo pipefail
cd "$(dirname "$0")/.."

uninstall=false
if [ "${1:-}" = "--uninstall" ]; then
  uninstall=true
  shift
fi
if [ $# -gt 1 ] || [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  echo "usage: bash scripts/install.sh [--uninstall] [PREFIX]   (default PREFIX: /usr/local)" >&2
  exit 2
fi
prefix="${1:-/usr/local}"

files=(
  "$prefix/bin/headstart"
  "$prefix/share/bash-completion/completions/headstart"
  "$prefix/share/zsh/site-functions/_headstart"
  "$prefix/share/fish/vendor_completions.d/headstart.fish"
)

if $uninstall; then
  for file in "${files[@]}"; do
    if [ -e "$file" ]; then
      rm -f "$file"
      echo "removed $file"
    fi
  done
  exit 0
fi

bash scripts/install-deps.sh
swift build -c release --product headstart 2>&1 | tail -n 1
built=.build/release/headstart

# Each file is written beside its destination and renamed into place, so a failed install never
# leaves half a binary at PREFIX/bin/headstart.
place() {
  local source="$1" destination="$2" mode="$3"
  mkdir -p "$(dirname "$destination")"
  install -m "$mode" "$source" "$destination.installing"
  mv -f "$destination.installing" "$destination"
  echo "installed $destination"
}

place "$built" "${files[0]}" 755
completions=$(mktemp -d)
trap 'rm -rf "$completions"' EXIT
"$built" --generate-completion-script bash > "$completions/bash"
"$built" --generate-completion-script zsh > "$completions/zsh"
"$built" --generate-completion-script fish > "$completions/fish"
place "$completions/bash" "${files[1]}" 644
place "$completions/zsh" "${files[2]}" 644
place "$completions/fish" "${files[3]}" 644
"${files[0]}" --version | head -n 1
