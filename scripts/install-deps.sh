#!/usr/bin/env bash
# Installs what libodm needs to build and test, from Debian's packages (bookworm):
# libmongoc/libbson 1.23, PCRE2 (pattern rules), check, pkg-config, cmake, ninja, clang (libFuzzer) and valgrind.
# Skips apt when everything is already there.
set -euo pipefail
# libclang-rt-14-dev holds libFuzzer and the sanitizer runtimes: only a Recommends of clang.
pkgs=(build-essential cmake ninja-build pkg-config libmongoc-dev libbson-dev libpcre2-dev check clang libclang-rt-14-dev valgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
