#!/usr/bin/env bash
# install-deps.sh [--test] - installs, from Debian's packages, what mailwarden needs to build
# and run; with --test also what the test suites start (redis-server, postfix, unbound,
# swaks, SASL, the independent implementations used for cross-checks). Run as root.
# Postfix is preseeded "No configuration": no system instance is configured or started.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install-deps.sh: run as root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

build_packages=(
    cmake ninja-build g++ pkg-config make
    libmilter-dev libssl-dev libhiredis-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
    libunbound-dev libevent-dev libpsl-dev publicsuffix libre2-dev libgmime-3.0-dev
    libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
    libgtest-dev libgmock-dev libbenchmark-dev
)
test_packages=(
    redis-server redis-tools postfix swaks sasl2-bin libsasl2-modules unbound
    python3 python3-milter python3-aiosmtpd python3-dkim python3-spf
    openssl python3-cryptography python3-nacl opendkim
    iproute2 procps
)

wanted=("${build_packages[@]}")
if [ "${1:-}" = "--test" ]; then
    wanted+=("${test_packages[@]}")
fi

missing=()
for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
fi
echo "install-deps.sh: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts redis-server and unbound as system services where it can; the tests start
# their own on free loopback ports and never use the system instances.
