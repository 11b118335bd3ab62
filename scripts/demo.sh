#!/usr/bin/env bash
# The main job: installs what is missing, then runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
npm run --silent demo -- "$@"
