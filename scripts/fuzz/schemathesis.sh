#!/usr/bin/env bash
# Property-based API test of openvbo with schemathesis, against the OpenAPI document the server
# serves itself (GET /swagger/docs/v6, derived from the official v6 schema by
# scripts/gen-openapi.py). Starts the Microsoft 365 simulator (demo tenant) and the server on
# free loopback ports with a throw-away data dir, signs in, adds the demo organization so
# organization-scoped paths have a real id, and runs schemathesis with an authenticated session
# and a fixed, seeded example budget. Checks: no 5xx, every response's
# status, content type, headers and body as documented. Extra arguments go to `schemathesis run`
# (which runs in a temporary directory: give absolute paths, e.g. --report-dir).
# OPENVBO_FUZZ_MAX_EXAMPLES and OPENVBO_FUZZ_SEED change the budget and the seed.
# Exit code: schemathesis's (the first failing run's).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES="${OPENVBO_FUZZ_MAX_EXAMPLES:-30}"
SEED="${OPENVBO_FUZZ_SEED:-20260601}"
WAIT_SECS=30
CHECKS=not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

echo "== building openvbo"
cargo build -q -p openvbo
bin="$root/target/debug/openvbo"

venv="$root/target/fuzz-venv"
if [[ ! -x "$venv/bin/python" ]]; then
    echo "== creating $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$SCHEMATHESIS_VERSION')" 2>/dev/null; then
    echo "== installing schemathesis==$SCHEMATHESIS_VERSION"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
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
base="https://localhost:$api_port"

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
    echo "---- serve log (last 80 lines)"
    tail -n 80 "$tmp/serve.log" || true
}

up() {
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$sim_port/" &&
        [[ -f "$cert" ]] &&
        curl -s -o /dev/null --max-time 2 --cacert "$cert" "$base/swagger/docs/v6"
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

# Secrets go through files and the environment, never the command line.
api() { # METHOD PATH [JSON body file] -> body on stdout; fails (body on stderr) on a non-2xx
    local args=(-sS --fail-with-body --max-time 60 --cacert "$cert" -X "$1" "$base$2"
        -H "@$tmp/auth-header" -o "$tmp/response")
    [[ $# -lt 3 ]] || args+=(-H 'Content-Type: application/json' --data-binary "@$3")
    if ! curl "${args[@]}"; then
        echo "$1 $2 failed: $(cat "$tmp/response")" >&2
        return 1
    fi
    cat "$tmp/response"
}
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

echo "== signing in and adding the demo organization"
printf '%s' "$admin_password" >"$tmp/password"
token="$(curl -sS --fail-with-body --max-time 60 --cacert "$cert" "$base/v6/Token" \
    --data-urlencode grant_type=password --data-urlencode username=admin \
    --data-urlencode "password@$tmp/password" | json_field access_token)"
printf 'Authorization: Bearer %s\n' "$token" >"$tmp/auth-header"
python3 -c '
import json, sys
settings = {"account": sys.argv[1], "password": sys.argv[2], "grantAdminAccess": False,
            "useMfa": False, "useCustomVeeamAADApplication": False}
print(json.dumps({"type": "Office365", "region": "Worldwide", "isExchangeOnline": True,
                  "isSharePointOnline": True, "isTeamsOnline": True, "isTeamsChatsOnline": False,
                  "exchangeOnlineSettings": settings, "sharePointOnlineSettings": settings}))
' admin@contoso-demo.onmicrosoft.com 'Demo-Passw0rd!' >"$tmp/organization.json"
org="$(api POST /v6/Organizations "$tmp/organization.json" | json_field id)"
echo "demo organization $org"

# Real ids from the demo organization: schemathesis draws path ids (and the accounts in
# organization bodies, and the administrator's name and password at the token endpoint) from
# them half the time, so requests reach the success paths too, not only 404s and 400s.
OPENVBO_FUZZ_TOKEN="$token" python3 - "$base" "$cert" "$org" "$admin_password" >"$tmp/dictionaries.toml" <<'PY'
import json, os, ssl, sys, urllib.parse, urllib.request

base, cert, org, admin_password = sys.argv[1:5]
context = ssl.create_default_context(cafile=cert)
headers = {"Authorization": "Bearer " + os.environ["OPENVBO_FUZZ_TOKEN"]}


def get(path):
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request, context=context, timeout=60) as response:
        return json.load(response)


def seg(value):
    return urllib.parse.quote(value, safe="")


def ids(path, key="id"):
    return [item[key] for item in get(path)["results"]]


prefix = f"/v6/Organizations/{org}"
users = get(prefix + "/Users?limit=1000")["results"]
user_ids = [u["id"] for u in users] + [u["name"] for u in users[:3]]
onedrives = []
for user in users[:5]:
    onedrives += ids(f"{prefix}/Users/{seg(user['id'])}/OneDrives")
dictionaries = {
    "users": user_ids,
    "onedrives": onedrives,
    "groups": ids(prefix + "/Groups?limit=1000"),
    "sites": ids(prefix + "/Sites?limit=1000&includePersonalSites=true"),
    "teams": ids(prefix + "/Teams?limit=1000"),
    "accounts": ["admin@contoso-demo.onmicrosoft.com"],
    "passwords": ["Demo-Passw0rd!"],
    "admins": ["admin"],
    "admin-passwords": [admin_password],
}
for name, values in dictionaries.items():
    if not values:
        sys.exit(f"the demo organization has no {name}")
    print(f"[dictionaries.{name}]\nvalues = {json.dumps(sorted(set(values)))}\n")
bindings = {
    "path.userId": "users",
    "path.onedriveId": "onedrives",
    "path.groupId": "groups",
    "path.siteId": "sites",
    "query.parentId": "sites",
    "path.teamId": "teams",
    "body.exchangeOnlineSettings.account": "accounts",
    "body.sharePointOnlineSettings.account": "accounts",
    "body.exchangeOnlineSettings.password": "passwords",
    "body.sharePointOnlineSettings.password": "passwords",
    "body.username": "admins",
    "body.password": "admin-passwords",
}
print("[parameters]")
# Every organizationId is the demo organization's, so the discovery paths reach Microsoft 365
# (the simulator) rather than stopping at 404.
print('"path.organizationId" = "${OPENVBO_FUZZ_ORG}"')
for key, name in bindings.items():
    print(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')
PY

# schemathesis reads the token and the organization id from the environment through its config
# file (which is in the private temporary directory, as the administrator's password is).
{
    echo 'headers = { Authorization = "Bearer ${OPENVBO_FUZZ_TOKEN}" }'
    echo
    cat "$tmp/dictionaries.toml"
} >"$tmp/schemathesis.toml"

# From the temporary directory: schemathesis keeps per-project state (.schemathesis/) in the
# working directory, and every run starts from none.
run_schemathesis() { # extra `schemathesis run` arguments
    (cd "$tmp" && OPENVBO_FUZZ_TOKEN="$token" OPENVBO_FUZZ_ORG="$org" \
        "$venv/bin/schemathesis" --no-color --config-file "$tmp/schemathesis.toml" run \
        "$base/swagger/docs/v6" \
        --tls-verify "$cert" \
        --checks "$CHECKS" \
        --phases examples,coverage,fuzzing \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --generation-database none \
        --workers 1 \
        --request-timeout 60 \
        "$@")
}

echo "== schemathesis $SCHEMATHESIS_VERSION: $MAX_EXAMPLES examples per operation, seed $SEED"
rc=0
# Three runs, so that the organization the others read is changed (PUT) only after them, and
# removed (DELETE) last.
for filter in "--exclude-method-regex=^(PUT|DELETE)$" --include-method=PUT --include-method=DELETE; do
    echo "== schemathesis run $filter"
    run_schemathesis "$filter" "$@" || rc=$?
    ((rc == 0)) || break
done

if ((rc != 0)); then
    show_logs
fi
exit "$rc"
