#!/usr/bin/env bash
# Installs the Debian packages Pasokh builds and tests with. Idempotent: only
# missing packages are installed. Never libboost-all-dev (it pulls 1.74).
# Arguments name more packages a tool needs (bench/ingest/script_instructions.sh: valgrind).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev nlohmann-json3-dev libhiredis-dev
  libspdlog-dev libfmt-dev libgmime-3.0-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server
  python3  # scripts/lib.sh free_port (start-demo.sh, benchmarks)
)
if [ "${PASOKH_WITH_TEST_TOOLS:-0}" = 1 ]; then
  # libnet-ssleay-perl: swaks --tls (STARTTLS tests)
  # openssl: the TLS test makes its own certificate
  packages+=(wrk nginx-light swaks libnet-ssleay-perl chromium nodejs npm curl openssl)
fi
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs/npm may come from outside Debian on some machines; accept any working node.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=(); for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "install-deps.sh: installing packages needs root: run it as root, or install sudo" >&2
      exit 1
    fi
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
