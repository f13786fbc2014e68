#!/usr/bin/env bash
# Installs the system libraries Headstart builds on, if any is missing. Safe to run again.
set -euo pipefail
# libtiff-dev, libwebp-dev (with libwebpdemux) and libgif-dev decode TIFF, WebP and GIF; the
# -dev packages pull in the runtime libraries the built tool links.
packages=(libhdf5-dev libopenblas-dev libpng-dev libjpeg-dev zlib1g-dev libtiff-dev libwebp-dev libgif-dev pkg-config)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system libraries: all present (${packages[*]})"
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
