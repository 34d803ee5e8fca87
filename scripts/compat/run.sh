#!/usr/bin/env bash
# Compatibility check of openvbo against the PyPI client generated from the official schema
# (veeam-365). Starts the Microsoft 365 simulator and the server on free loopback ports with
# a throw-away data dir, runs scripts/compat/veeam365_check.py against them, and cleans up.
# Extra arguments go to the check. Exit code: the check's.
set -euo pipefail

VEEAM_365_VERSION=0.4.1
WAIT_SECS=30

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

echo "== building openvbo"
cargo build -q -p openvbo
bin="$root/target/debug/openvbo"

venv="$root/target/compat-venv"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "== creating $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('veeam-365') != '$VEEAM_365_VERSION')" 2>/dev/null; then
    echo "== installing veeam-365==$VEEAM_365_VERSION"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "veeam-365==$VEEAM_365_VERSION"
fi

tmp="$(mktemp -d)"
sim_pid=""
serve_pid=""

stop() {
    local pid="$1"
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop "$serve_pid"
    stop "$sim_pid"
    rm -rf "$tmp"
}
trap cleanup EXIT

read -r sim_port api_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
')
admin_password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
data_dir="$tmp/data"
cert="$data_dir/tls/cert.pem"

echo "== starting m365-sim on 127.0.0.1:$sim_port and serve on 127.0.0.1:$api_port"
"$bin" m365-sim --listen "127.0.0.1:$sim_port" >"$tmp/sim.log" 2>&1 &
sim_pid=$!
OPENVBO_ADMIN_USER=admin OPENVBO_ADMIN_PASSWORD="$admin_password" \
    "$bin" serve --listen "127.0.0.1:$api_port" --data-dir "$data_dir" \
    --m365-login-url "http://127.0.0.1:$sim_port" --m365-graph-url "http://127.0.0.1:$sim_port" \
    >"$tmp/serve.log" 2>&1 &
serve_pid=$!

show_logs() {
    echo "---- m365-sim log (last 50 lines)"
    tail -n 50 "$tmp/sim.log" || true
    echo "---- serve log (last 50 lines)"
    tail -n 50 "$tmp/serve.log" || true
}

# Both answer: any HTTP status counts (the server answers 401 without a token).
up() {
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$sim_port/" &&
        [[ -f "$cert" ]] &&
        curl -s -o /dev/null --max-time 2 --cacert "$cert" "https://localhost:$api_port/v6/ServiceInstance"
}

deadline=$((SECONDS + WAIT_SECS))
until up; do
    if ! kill -0 "$sim_pid" 2>/dev/null || ! kill -0 "$serve_pid" 2>/dev/null; then
        echo "a process exited before answering" >&2
        show_logs >&2
        exit 1
    fi
    if ((SECONDS >= deadline)); then
        echo "not answering after ${WAIT_SECS}s" >&2
        show_logs >&2
        exit 1
    fi
    sleep 0.2
done

echo "== running the veeam-365 $VEEAM_365_VERSION check"
rc=0
OPENVBO_COMPAT_PASSWORD="$admin_password" "$venv/bin/python" "$root/scripts/compat/veeam365_check.py" \
    --base-url "https://localhost:$api_port" --ca "$cert" --username admin "$@" || rc=$?

if ((rc != 0)); then
    show_logs
fi
exit "$rc"
