#!/usr/bin/env bash
# Installs the Debian packages TalkRooms needs, only those that are missing.
# Services are installed but never started by the package scripts: the project
# starts its own redis-server and nginx on its own ports (policy-rc.d refuses
# the package's automatic start, so nothing occupies 6379 or 80 behind our back).
#
# Container images often ship their own policy-rc.d: it is left exactly as found.
# The paths and commands can be pointed elsewhere (tests do, so that they never
# touch the real system): POLICY_RC_D, APT_GET, DPKG_QUERY, INSTALL_AS_UID.
set -euo pipefail

policy=${POLICY_RC_D:-/usr/sbin/policy-rc.d}
apt_get=${APT_GET:-apt-get}
dpkg_query=${DPKG_QUERY:-dpkg-query}
uid=${INSTALL_AS_UID:-$(id -u)}

wanted=("$@")
if [ ${#wanted[@]} -eq 0 ]; then
  wanted=(redis-server nginx)
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! "$dpkg_query" -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$uid" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]} (run as root or install them with apt-get)" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi

# Under `set -e` an EXIT trap's last status becomes the script's: written as an
# `if`, a policy-rc.d we did not create leaves the status of the install itself.
remove_our_policy() {
  if [ "$created_policy" -eq 1 ]; then
    rm -f "$policy"
  fi
}
trap remove_our_policy EXIT

export DEBIAN_FRONTEND=noninteractive
"$apt_get" update -qq
"$apt_get" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
