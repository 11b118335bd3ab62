#!/usr/bin/env bash
# Installs what is missing on a fresh Debian machine, then builds: Debian packages (as root, or via
# sudo), npm packages, the native libtorch binding. Quick when everything is already there.
#   scripts/setup.sh          what the project needs to run
#   scripts/setup.sh --test   also what the tests use (Debian's python3-torch, python3-torchvision and
#                             python3-scipy for the interop and FID reference
#                             tests that compare against PyTorch itself; Debian's chromium, for the
#                             editor's browser tests through playwright-core; never runtime dependencies)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libtorch-dev libgloo-dev libopenblas0-pthread cmake g++ ninja-build)
if [[ "${1:-}" == "--test" ]]; then packages+=(python3-torch python3-torchvision python3-scipy chromium); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "setup: these Debian packages are missing and this user cannot install them: ${missing[*]}" >&2
    echo "       run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

addon=native/build/Release/torch_addon.node
if [[ ! -f $addon ]] || [[ -n $(find native/src native/CMakeLists.txt -newer "$addon" 2>/dev/null) ]]; then
  echo "setup: building the libtorch binding (native/), about two minutes"
  npm run --silent build:native >/tmp/pix2pixhd-native-build.log 2>&1 || {
    tail -40 /tmp/pix2pixhd-native-build.log >&2
    echo "setup: the native build failed; full log in /tmp/pix2pixhd-native-build.log" >&2
    exit 1
  }
fi
