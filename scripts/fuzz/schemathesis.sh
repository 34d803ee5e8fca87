#!/usr/bin/env bash
# Property-based API test of openvbo with schemathesis, against the OpenAPI document the server
# serves itself (GET /swagger/docs/v6, derived from the official v6 schema by
# scripts/gen-openapi.py). Starts the Microsoft 365 simulator (demo tenant) and the server on
# free loopback ports with a throw-away data dir, signs in, adds the demo organization so
# organization-scoped paths have a real id (repository paths are pinned under that directory),
# backs it up once and seeds the ids that backup makes (repository, jobs and their items,
# restore points, sessions, log items, and an Exchange, a OneDrive and a SharePoint restore
# session with their mailboxes, drives, sites, libraries, folders, items and documents), and
# runs schemathesis with an authenticated session and a fixed, seeded example budget over every
# served operation. Checks: no 5xx (501 only where an operation documents it), every
# response's status, content type, headers and body as documented. About 6 minutes on a
# shared 2-core machine (30 examples per operation). Extra arguments go to `schemathesis run`
# (which runs in a temporary directory: give absolute paths, e.g. --report-dir).
# OPENVBO_FUZZ_MAX_EXAMPLES and OPENVBO_FUZZ_SEED change the budget and the seed.
# Exit code: schemathesis's (the first failing run's).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES="${OPENVBO_FUZZ_MAX_EXAMPLES:-30}"
SEED="${OPENVBO_FUZZ_SEED:-20260601}"
CHECKS=not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# shellcheck source=../lib/servers.sh
source "$root/scripts/lib/servers.sh"
openvbo_build
openvbo_venv fuzz-venv schemathesis "$SCHEMATHESIS_VERSION"
# The server logs why it ended a connection (debug), so that a network error schemathesis
# reports can be matched with the server's side of it.
export RUST_LOG="${RUST_LOG:-info,openvbo_api::server=debug}"
openvbo_start

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

# A repository (outside the data dir) and one finished backup of the demo organization, so the
# repository data listings, restore points, job sessions and log items have real ids too.
echo "== backing up the demo organization once"
python3 -c '
import json, sys
print(json.dumps({"name": "Fuzz backups", "path": sys.argv[1], "retentionType": "SnapshotBased",
                  "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"}))
' "$tmp/backups" >"$tmp/repository.json"
backup_repo="$(api POST /v6/BackupRepositories "$tmp/repository.json" | json_field id)"
python3 -c '
import json, sys
print(json.dumps({"name": "Fuzz job", "backupType": "EntireOrganization", "repositoryId": sys.argv[1],
                  "runNow": True, "schedulePolicy": {"type": "ManualOnly"}}))
' "$backup_repo" >"$tmp/job.json"
job="$(api POST "/v6/Organizations/$org/Jobs" "$tmp/job.json" | json_field id)"
status=none
for _ in $(seq 1 240); do
    status="$(api GET "/v6/Jobs/$job/JobSessions" |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["results"]; print(r[0]["status"] if r else "none")')"
    [[ "$status" == none || "$status" == Running || "$status" == Queued ]] || break
    sleep 0.5
done
echo "first backup: $status"
[[ "$status" == Success || "$status" == Warning ]] || { echo "the first backup did not finish" >&2; exit 1; }

# A second job (never run) with a selected and an excluded item, so the job item operations
# (SelectedItems/ExcludedItems by id) have real ids; and one restore session of each kind
# (Exchange, OneDrive, SharePoint) on the finished backup, so the browse, save and restore
# operations reach past their 404s.
echo "== a job with selected and excluded items, and three restore sessions"
user_id="$(api GET "/v6/Organizations/$org/Users?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["results"][0]["id"])')"
python3 -c '
import json, sys
print(json.dumps({"name": "Fuzz selection", "backupType": "SelectedItems", "repositoryId": sys.argv[1],
                  "selectedItems": [{"type": "PartialOrganization", "mailbox": True}],
                  "excludedItems": [{"type": "User", "user": {"id": sys.argv[2]}}],
                  "schedulePolicy": {"type": "ManualOnly"}}))
' "$backup_repo" "$user_id" >"$tmp/job2.json"
job2="$(api POST "/v6/Organizations/$org/Jobs" "$tmp/job2.json" | json_field id)"
sessions=()
for kind in Vex Veod Vesp; do
    printf '{"type": "%s"}' "$kind" >"$tmp/explore.json"
    sessions+=("$(api POST "/v6/Organizations/$org/explore" "$tmp/explore.json" | json_field id)")
done
echo "job $job2; restore sessions ${sessions[*]}"

# Real ids from the demo organization: schemathesis draws path ids (and the accounts in
# organization bodies, and the administrator's name and password at the token endpoint) from
# them half the time, so requests reach the success paths too, not only 404s and 400s.
OPENVBO_FUZZ_TOKEN="$token" python3 - "$base" "$cert" "$org" "$admin_password" "$backup_repo" "$job" \
    "$job2" "${sessions[@]}" >"$tmp/dictionaries.toml" <<'PY'
import json, os, ssl, sys, urllib.parse, urllib.request

base, cert, org, admin_password, backup_repo, job, job2, vex, veod, vesp = sys.argv[1:11]
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
# What the first backup made: the repository, its restore point, session and log, and the ids
# its data listings use (a user's mailbox and OneDrive are listed by the user's id).
data = f"/v6/BackupRepositories/{backup_repo}"
points = [p["id"] for p in get("/v6/RestorePoints")]
sessions = ids("/v6/JobSessions?limit=1000")
dictionaries.update({
    "repositories": [backup_repo],
    "jobs": [job],
    "points": points,
    "sessions": sessions,
    "log-items": ids(f"/v6/JobSessions/{sessions[0]}/LogItems?limit=1000") if sessions else [],
    "mailboxes": ids(data + "/MailboxData?limit=1000"),
    "backed-up-onedrives": ids(data + "/OneDriveData?limit=1000"),
})
dictionaries["users"] += ids(data + "/UserData?limit=1000")
dictionaries["sites"] += ids(data + "/SiteData?limit=1000")
# The second job's selected and excluded items.
dictionaries["jobs"].append(job2)
dictionaries["job-items"] = [i["id"] for i in get(f"/v6/Jobs/{job2}/SelectedItems")] + [
    i["id"] for i in get(f"/v6/Jobs/{job2}/ExcludedItems")]


def largest(listings):
    """The (parent, children) pair with the most children: the resource worth browsing."""
    return max(listings, key=lambda pair: len(pair[1]))


# The restore sessions: every event, and for each kind the resource with the most content,
# with its folders and items (documents) as the session shows them (no parentId: the whole
# tree). A few others of the kind stay in, for the actions that name another place.
rs = "/v6/RestoreSessions"
dictionaries["restore-sessions"] = [vex, veod, vesp]
dictionaries["vex"], dictionaries["veod"], dictionaries["vesp"] = [vex], [veod], [vesp]
dictionaries["events"] = [e for s in (vex, veod, vesp) for e in ids(f"{rs}/{s}/Events?limit=1000")]
mail = f"{rs}/{vex}/organization/mailboxes"
mailbox, items = largest([(m, ids(f"{mail}/{seg(m)}/items?limit=20")) for m in ids(mail + "?limit=1000")])
dictionaries["mail-boxes"] = [mailbox]
dictionaries["mail-folders"] = ids(f"{mail}/{seg(mailbox)}/folders?limit=50") + ["root"]
dictionaries["mail-items"] = items
drives = f"{rs}/{veod}/Organization/OneDrives"
drive, documents = largest([(d, ids(f"{drives}/{seg(d)}/Documents?limit=20")) for d in ids(drives + "?limit=1000")])
dictionaries["od-drives"] = [drive]
dictionaries["od-folders"] = ids(f"{drives}/{seg(drive)}/Folders?limit=50") + ["root"]
dictionaries["od-documents"] = documents
sites = f"{rs}/{vesp}/Organization/Sites"
site, documents = largest([(s, ids(f"{sites}/{seg(s)}/Documents?limit=20")) for s in ids(sites + "?limit=1000")])
dictionaries["sp-sites"] = [site]
dictionaries["sp-libraries"] = ids(f"{sites}/{seg(site)}/Libraries?limit=50")
dictionaries["sp-folders"] = ids(f"{sites}/{seg(site)}/Folders?limit=50") + ["root"]
dictionaries["sp-documents"] = documents
for name, values in dictionaries.items():
    if not values:
        sys.exit(f"the demo organization (or its first backup) has no {name}")
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
    "path.repositoryId": "repositories",
    "path.jobId": "jobs",
    "query.repositoryId": "repositories",
    "path.restorePointId": "points",
    "path.jobSessionsId": "sessions",
    "path.sessionId": "sessions",
    "path.logItemId": "log-items",
    "path.mailboxId": "mailboxes",
    "path.oneDriveId": "backed-up-onedrives",
    "path.restoreSessionId": "restore-sessions",
    "path.eventId": "events",
}
# Per area, the ids of its own session and resource (they override the bindings above). The
# session and resource are drawn nearly always, so that the leaf ids (half the time a real
# one) are tried where they exist; 1 in 10 is still a generated id (the 404 paths).
RESTORE_AREAS = {
    "/organization/mailboxes": {
        "path.restoreSessionId": "vex", "path.mailboxId": "mail-boxes", "path.folderId": "mail-folders",
        "query.folderId": "mail-folders", "query.parentId": "mail-folders", "path.itemId": "mail-items",
    },
    "/Organization/OneDrives": {
        "path.restoreSessionId": "veod", "path.oneDriveId": "od-drives", "path.folderId": "od-folders",
        "query.parentId": "od-folders", "path.documentId": "od-documents",
    },
    "/Organization/Sites": {
        "path.restoreSessionId": "vesp", "path.siteId": "sp-sites", "path.libraryId": "sp-libraries",
        "path.folderId": "sp-folders", "query.parentId": "sp-folders", "path.documentId": "sp-documents",
    },
}
PARENTS = {"path.restoreSessionId", "path.mailboxId", "path.oneDriveId", "path.siteId"}
print("[parameters]")
# Every organizationId is the demo organization's, so the discovery paths reach Microsoft 365
# (the simulator) rather than stopping at 404.
print('"path.organizationId" = "${OPENVBO_FUZZ_ORG}"')
# Repository paths: always under the throw-away directory, never a generated absolute path
# (an add creates its directory). The server refuses a non-empty directory anyway.
print('"body.path" = "${OPENVBO_FUZZ_REPO_PATH}"')
print('"body.objectStorageCachePath" = "${OPENVBO_FUZZ_REPO_PATH}/cache"')
for key, name in bindings.items():
    print(f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}')
# A method the document leaves out of a path answers 405, except where the official v6 schema
# has that operation and openvbo does not implement it yet: that answers 501 naming it (the
# documented rule), which is not a server error. Those methods are not sent as "unexpected".
not_yet = {"/v6/Proxies": {"POST"}, "/v6/Proxies/{proxyId}": {"PUT"}}
for area, area_bindings in RESTORE_AREAS.items():
    print(f'\n[[operations]]\ninclude-path-regex = "^/v6/RestoreSessions/[{{]restoreSessionId[}}]{area}"')
    print("[operations.parameters]")
    for key, name in area_bindings.items():
        print(f'"{key}" = {{ dictionary = "{name}", probability = {0.9 if key in PARENTS else 0.5} }}')
# A valid request with an option openvbo does not implement yet answers 501 naming it, by
# design, and only from these operations (their documents list 501): explore with type Vet,
# and restores with a device code, an application, every document version or a site the
# session does not show. Everywhere else a 501 stays a failure.
print('\n[[operations]]\ninclude-path-regex = "/(explore|restore|restoreTo|copyTo)$"')
print('checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "501"]')
print('\n[[operations]]\ninclude-path-regex = "^/v6/Jobs/[{]jobId[}]/(Selected|Excluded)Items/"')
print("[operations.parameters]")
print('"path.itemId" = { dictionary = "job-items", probability = 0.5 }')
for path, methods in not_yet.items():
    others = sorted({"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"} - methods - {"GET"})
    print(f'\n[[operations]]\ninclude-path = "{path}"\ninclude-method = "GET"')
    print(f'phases.coverage.unexpected-methods = {json.dumps(others)}')
PY

# schemathesis reads the token and the organization id from the environment through its config
# file (which is in the private temporary directory, as the administrator's password is).
{
    echo 'headers = { Authorization = "Bearer ${OPENVBO_FUZZ_TOKEN}" }'
    echo
    cat "$tmp/dictionaries.toml"
} >"$tmp/schemathesis.toml"

# --request-retries 1: a request that fails at the network level is sent once more (status,
# header and body checks are not retried). Open defect, not understood yet: in 2 of 3 full runs
# on 2026-12-02 one coverage-phase POST to a mailbox restore (…/mailboxes/{id}/restore,
# …/items/{id}/restore) or to Jobs/{id}/start saw the server close the TLS connection without
# an answer ("EOF occurred in violation of protocol"); not reproduced alone. A likely cause is
# fixed in crates/openvbo-api/src/server.rs (the idle timer dropped a connection whose request had
# arrived but was not read yet; it now closes gracefully and polls the connection first, tested
# there); the resend stays until full runs show the EOFs gone. A failing run prints the server's
# ended connections below.
# From the temporary directory: schemathesis keeps per-project state (.schemathesis/) in the
# working directory, and every run starts from none.
run_schemathesis() { # extra `schemathesis run` arguments
    (cd "$tmp" && OPENVBO_FUZZ_TOKEN="$token" OPENVBO_FUZZ_ORG="$org" OPENVBO_FUZZ_REPO_PATH="$tmp/repositories/one" \
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
        --request-retries 1 \
        --exclude-tag openvbo-not-fuzzed \
        "$@")
}

echo "== schemathesis $SCHEMATHESIS_VERSION: $MAX_EXAMPLES examples per operation, seed $SEED"
rc=0
# Operations tagged openvbo-not-fuzzed in the served document (scripts/gen-openapi.py
# NOT_YET_FUZZED; none at present) would be served but not fuzzed, with the official
# `default` error response.
# Four runs, so that what the others read is changed only after them: first everything that
# leaves the seeded ids usable; then PUT (the organization, the jobs); then what stops a
# restore session or a job, or disables a job; DELETE (the organization, the jobs) last.
finishing='/(Stop|stop|disable)$'
# (schemathesis ORs filters of one kind given separately, e.g. two --exclude-method, and ANDs
# the regex options of one run, e.g. --include-method-regex with --include-path-regex.)
for filter in "--exclude-method=PUT --exclude-method=DELETE --exclude-path-regex=$finishing" --include-method=PUT \
    "--include-method-regex=^POST$ --include-path-regex=$finishing" --include-method=DELETE; do
    echo "== schemathesis run $filter"
    started=$SECONDS
    # shellcheck disable=SC2086 # $filter is one or two options
    run_schemathesis $filter "$@" || rc=$?
    echo "== run took $((SECONDS - started)) s"
    ((rc == 0)) || break
done

if ((rc != 0)); then
    show_logs
    # The tail above is mostly the 501s answered by design; the server's warnings, errors and
    # ended connections from the whole run are what explain a failure.
    echo "---- serve log: warnings, errors and ended connections (last 60, 501s left out)"
    grep -E ' (WARN|ERROR) |connection ended|TLS handshake|idle connection' "$tmp/serve.log" |
        grep -v -e '501 Not Implemented' -e 'sign-in' | tail -n 60 || true
fi
exit "$rc"
