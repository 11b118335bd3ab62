#!/usr/bin/env bash
# One command for a CUDA machine: builds the binding against this machine's PyTorch (pip's wheel
# ships TorchConfig.cmake; $LIBTORCH for a LibTorch folder), then runs the checks that need a GPU
# and prints one verdict line each, and the performance figures (scripts/gpu-check.ts). About
# 3–6 minutes on one GPU, the build included. Needs Node 20, cmake and g++; npm packages are
# installed when missing (npm's registry must be reachable then).
#   scripts/gpu-check.sh [--no-build] [--only 'parity G/D/E,fp16 training,…']
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
if [[ "${1:-}" == "--no-build" ]]; then build=0; shift; fi
start=$(date +%s)
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "no nvidia-smi"
python3 -c 'import torch; print("python3 torch", torch.__version__, "CUDA", torch.version.cuda, "devices", torch.cuda.device_count())' || echo "no torch in python3: set LIBTORCH to a LibTorch folder"
if [[ ! -d node_modules ]]; then npm ci --no-audit --no-fund --loglevel=error; fi
if (( build )); then
  rm -rf native/build
  echo "building the binding (log: /tmp/pix2pixhd-gpu-build.log)"
  if ! node scripts/build-native.mjs >/tmp/pix2pixhd-gpu-build.log 2>&1; then
    tail -30 /tmp/pix2pixhd-gpu-build.log; echo "FAIL build                  the native build failed"; exit 1
  fi
  grep -E "^-- c10d|^-- CUDA allocator|libtorch:" /tmp/pix2pixhd-gpu-build.log || true
  echo "PASS build                   $(( $(date +%s) - start )) s"
fi
status=0
timeout 420 node --import tsx scripts/gpu-check.ts "$@" || status=$?
echo "gpu-check: $(( $(date +%s) - start )) s in all, exit $status"
exit $status
