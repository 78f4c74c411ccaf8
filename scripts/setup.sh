#!/usr/bin/env bash
# Installs the Debian packages roster needs to build, test and benchmark.
# Idempotent and fast when everything is present; uses apt-get as root and
# sudo otherwise.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libboost-dev libspdlog-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  procps iproute2
  help2man dpkg-dev
  libsystemd-dev
  libczmq-dev python3-zmq
  clang-14 libclang-rt-14-dev
  libcpp-httplib-dev prometheus-cpp-dev
  redis-server libhiredis-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
else
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
