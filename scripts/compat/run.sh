#!/usr/bin/env bash
# Compatibility check of openvbo against the PyPI client generated from the official schema
# (veeam-365). Starts the Microsoft 365 simulator and the server on free loopback ports with
# a throw-away data dir, runs scripts/compat/veeam365_check.py against them, and cleans up.
# Extra arguments go to the check. Exit code: the check's.
set -euo pipefail

VEEAM_365_VERSION=0.4.1

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# shellcheck source=../lib/servers.sh
source "$root/scripts/lib/servers.sh"
openvbo_build
openvbo_venv compat-venv veeam-365 "$VEEAM_365_VERSION"
openvbo_start

echo "== running the veeam-365 $VEEAM_365_VERSION check"
rc=0
OPENVBO_COMPAT_PASSWORD="$admin_password" "$venv/bin/python" "$root/scripts/compat/veeam365_check.py" \
    --base-url "$base" --ca "$cert" --username admin "$@" || rc=$?

if ((rc != 0)); then
    show_logs
fi
exit "$rc"
