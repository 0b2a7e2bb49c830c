#!/usr/bin/env bash
# Builds libodm and runs the quickstart example (no server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target quickstart
./build/examples/quickstart
