#!/usr/bin/env bash
# Install everything gluu-cluster and its lab need on Debian 12, as root.
#   scripts/install.sh          system packages + the tool in .venv
#   scripts/install.sh --dev    the same plus test and lint tools
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

if [ "$(id -u)" -ne 0 ]; then
  echo "error: run as root (apt-get and the lab need it)" >&2
  exit 2
fi

packages=(
  openssh-server openssh-client   # sshd per lab node, ssh for operators
  slapd ldap-utils                # OpenLDAP server and client tools
  csync2 sqlite3                  # file replication (the seed's engine); sqlite3 manages its peer pins
  default-jre-headless            # keytool for Java truststores; OpenDJ runs on it
  maven unzip                     # fetch the pinned OpenDJ zip from Maven Central; unpack it
  python3 python3-venv python3-dev build-essential libldap2-dev libsasl2-dev  # python-ldap builds
  util-linux procps iproute2 iptables inotify-tools ca-certificates
  nginx-light redis-server redis-tools  # the lab's load balancer and shared cache (apply installs them on real hosts)
)
if [ "$dev" = 1 ]; then
  # The status page's tests open it in real headless Chromium, with a font to draw it.
  packages+=(chromium fonts-dejavu-core)
fi
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # Package scripts must not start system sshd/slapd/nginx/redis: they would hold ports the lab uses.
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  trap '[ "$added_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
lock=requirements.lock
[ "$dev" = 1 ] && lock=requirements-dev.lock
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q --require-hashes -r "$lock"
.venv/bin/python -m pip install -q --no-deps -e .
# The pinned OpenDJ server zip (the guide's LDAP engine), checked against Central's SHA-1,
# cached for 'lab up --engine opendj' and the tests.
.venv/bin/python -m gluu_cluster.ldap.opendj.dist > /dev/null
echo "installed: $(.venv/bin/gluu-cluster --version)"
