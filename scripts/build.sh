#!/usr/bin/env bash
# build.sh [BUILD_DIR] [BUILD_TYPE] - configures and builds mailwarden with CMake and Ninja.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
build_type=${2:-RelWithDebInfo}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
