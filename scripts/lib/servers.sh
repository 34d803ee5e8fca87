# Shared by scripts/compat/run.sh and scripts/fuzz/schemathesis.sh: build openvbo, make a pinned
# Python venv, and start the Microsoft 365 simulator (demo tenant) and the server on free
# loopback ports with a throw-away data dir, stopped and removed on exit.
# Source it from a `set -euo pipefail` script after setting `root` (the repository) and `cd`.
# After `openvbo_start`: $bin $tmp $sim_port $api_port $admin_password $data_dir $cert $base.

WAIT_SECS="${WAIT_SECS:-30}"

openvbo_build() {
    echo "== building openvbo"
    cargo build --locked -q -p openvbo
    bin="$root/target/debug/openvbo"
}

# openvbo_venv DIR PACKAGE VERSION: a venv with exactly that version installed; sets $venv.
openvbo_venv() {
    venv="$root/target/$1"
    if [[ ! -x "$venv/bin/python" ]]; then
        echo "== creating $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
    if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$2') != '$3')" 2>/dev/null; then
        echo "== installing $2==$3"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check "$2==$3"
    fi
}

_stop() {
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

_cleanup() {
    _stop "${serve_pid:-}"
    _stop "${sim_pid:-}"
    rm -rf "${tmp:-}"
}

show_logs() {
    echo "---- m365-sim log (last 50 lines)"
    tail -n 50 "$tmp/sim.log" || true
    echo "---- serve log (last 80 lines)"
    tail -n 80 "$tmp/serve.log" || true
}

_up() {
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$sim_port/" &&
        [[ -f "$cert" ]] &&
        curl -s -o /dev/null --max-time 2 --cacert "$cert" "$base/v6/ServiceInstance"
}

openvbo_start() {
    tmp="$(mktemp -d)"
    sim_pid=""
    serve_pid=""
    trap _cleanup EXIT
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
    base="https://localhost:$api_port"

    echo "== starting m365-sim on 127.0.0.1:$sim_port and serve on 127.0.0.1:$api_port"
    "$bin" m365-sim --listen "127.0.0.1:$sim_port" >"$tmp/sim.log" 2>&1 &
    sim_pid=$!
    # The password goes through the environment, never the command line.
    OPENVBO_ADMIN_USER=admin OPENVBO_ADMIN_PASSWORD="$admin_password" \
        "$bin" serve --listen "127.0.0.1:$api_port" --data-dir "$data_dir" \
        --m365-login-url "http://127.0.0.1:$sim_port" --m365-graph-url "http://127.0.0.1:$sim_port" \
        >"$tmp/serve.log" 2>&1 &
    serve_pid=$!

    local deadline=$((SECONDS + WAIT_SECS))
    until _up; do
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
}
