#!/usr/bin/env bash
# The test command: installs what is missing, then type-checks and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
npm test
