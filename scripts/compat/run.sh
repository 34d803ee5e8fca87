#!/usr/bin/env bash
# Compatibility check of openvbo against the PyPI client generated from the official schema
# (veeam-365). Starts the Microsoft 365 simulator and the server on free loopback ports with
# a throw-away data dir, runs scripts/compat/veeam365_check.py (with backup_steps.py and
# restore_steps.py) against them, and cleans up.
# Extra arguments go to the check. Exit code: the check's.
set -euo pipefail

VEEAM_365_VERSION=0.4.1
EXTRACT_MSG_VERSION=0.57.0

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# shellcheck source=../lib/servers.sh
source "$root/scripts/lib/servers.sh"
openvbo_build
# The restore steps read every saved .msg with an independent reader (extract-msg), from the
# python CI already prepared (OPENVBO_EXTRACT_MSG_PYTHON) or a venv of its own.
if [[ -z "${OPENVBO_EXTRACT_MSG_PYTHON:-}" ]]; then
    openvbo_venv compat-msg-venv extract-msg "$EXTRACT_MSG_VERSION"
    export OPENVBO_EXTRACT_MSG_PYTHON="$venv/bin/python"
fi
openvbo_venv compat-venv veeam-365 "$VEEAM_365_VERSION"
openvbo_start

echo "== running the veeam-365 $VEEAM_365_VERSION check"
rc=0
OPENVBO_COMPAT_PASSWORD="$admin_password" "$venv/bin/python" "$root/scripts/compat/veeam365_check.py" \
    --base-url "$base" --ca "$cert" --username admin --sim-url "http://127.0.0.1:$sim_port" "$@" || rc=$?

if ((rc != 0)); then
    show_logs
fi
exit "$rc"
