#!/usr/bin/env python3
"""Backup benchmark (issue 10): the release server backs up a synthetic tenant served by the
simulator, driven over HTTPS through the v6 jobs routes exactly as a client would
(`POST /v6/Organizations/{id}/Jobs`, `POST /v6/Jobs/{id}/start`, poll `GET /v6/JobSessions/{id}`).
Run it through `scripts/bench/backup/run`, which builds the release binary and installs restic.

For each simulator latency (BENCH_LATENCIES, ms per Graph request): a fresh server and data dir,
a full backup of every mailbox of `synth0`, then BENCH_CHANGE_PCT % of the messages changed
through Graph (half re-flagged with PATCH, half new) and an incremental run. Measured per run:
wall time, items and MB/s, Graph requests per item (the simulator's own counters), the server's
CPU seconds per 1,000 items, its peak RSS (VmHWM, reset before each run) and the repository size.

Physical baseline in the same run (latency 0 only): the very MIME bytes of every message and the
bytes of every OneDrive file are exported from the simulator to a local directory (one .eml per
message, one file per file, untimed), then Debian's restic backs that directory up (full), the
same changes are applied to the copies, and restic runs again (incremental), both under
/usr/bin/time -v.

The job backs up every mailbox and every OneDrive (`PartialOrganization` with `mailbox` and
`oneDrive`). The incremental changes BENCH_CHANGE_PCT % of the messages (half PATCHed `isRead`,
half new) and of the files (half renamed, half rewritten with new bytes): a rename must cost no
download.

Settings (environment):
  BENCH_USERS       synthetic users (every 10th a shared mailbox)   (20)
  BENCH_MESSAGES    messages per mailbox                             (500)
  BENCH_FILES       files per OneDrive (0: mail only)                (50)
  BENCH_LATENCIES   comma-separated simulator latencies in ms        (0,50)
  BENCH_CHANGE_PCT  share of messages changed before the incremental (1)
  BENCH_OUT         results directory                                (bench/results)
  BENCH_BIN         server binary                                    (target/release/openvbo)
  BENCH_KEEP=1      keep the work directory (logs, repositories, export)
  BENCH_SIM_ARGS    extra simulator flags, e.g. "--throttle-profile microsoft"
  BENCH_JOB_SCOPE   mailboxes (a PartialOrganization job of every mailbox) or entire   (mailboxes)
All traffic goes to 127.0.0.1; every wait is bounded (BENCH_RUN_TIMEOUT s per backup, 900).
"""

import concurrent.futures
import datetime
import http.client
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import bench as common  # noqa: E402  (the server/simulator helpers of scripts/bench/bench.py)

ROOT = common.ROOT
USERS = int(os.environ.get("BENCH_USERS", "20"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "500"))
FILES = int(os.environ.get("BENCH_FILES", "50"))
LATENCIES = [int(x) for x in os.environ.get("BENCH_LATENCIES", "0,50").split(",") if x]
CHANGE_PCT = float(os.environ.get("BENCH_CHANGE_PCT", "1"))
SCOPE = os.environ.get("BENCH_JOB_SCOPE", "mailboxes")
RUN_TIMEOUT = float(os.environ.get("BENCH_RUN_TIMEOUT", "900"))
OUT = Path(os.environ.get("BENCH_OUT", ROOT / "bench" / "results"))
BIN = common.BIN
KEEP = os.environ.get("BENCH_KEEP") == "1"
HOST = common.HOST
TENANT = "synth0.onmicrosoft.com"
SIM_ADMIN = f"admin@{TENANT}"
CLIENT_ID = "00000000-0000-4000-8000-00000000be0c"
log = common.log


# ---------------------------------------------------------------- the simulator over HTTP


class Graph:
    """Talks to the simulator as a Graph client would (own token), for exports and changes."""

    def __init__(self, port):
        self.port = port
        self.token = self._token()

    def _conn(self):
        return http.client.HTTPConnection(HOST, self.port, timeout=120)

    def _token(self):
        body = urllib.parse.urlencode({
            "client_id": CLIENT_ID, "grant_type": "password", "username": SIM_ADMIN,
            "password": common.SIM_PASSWORD, "scope": "https://graph.microsoft.com/.default"})
        c = self._conn()
        c.request("POST", f"/{TENANT}/oauth2/v2.0/token", body,
                  {"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"simulator token: {r.status} {data[:300]!r}")
        return json.loads(data)["access_token"]

    def call(self, method, path, body=None, conn=None):
        c = conn or self._conn()
        h = {"Authorization": "Bearer " + self.token}
        if body is not None:
            body = json.dumps(body)
            h["Content-Type"] = "application/json"
        c.request(method, path, body, h)
        r = c.getresponse()
        data = r.read()
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {data[:300]!r}")
        return data

    def json(self, method, path, body=None, conn=None):
        data = self.call(method, path, body, conn)
        return json.loads(data) if data else None

    def pages(self, path, conn=None):
        while path:
            page = self.json("GET", path, conn=conn)
            yield from page.get("value", [])
            nxt = page.get("@odata.nextLink")
            path = urllib.parse.urlsplit(nxt)._replace(scheme="", netloc="").geturl() if nxt else None

    def mailbox_users(self):
        """Every user: the administrator has a generated mailbox too, and the job backs it up."""
        return list(self.pages("/v1.0/users?$top=999&$select=id,userPrincipalName,mail"))

    def folders(self, user, conn):
        """Every folder of a mailbox, hidden ones too, depth first."""
        out, stack = [], [f"/v1.0/users/{user}/mailFolders?includeHiddenFolders=true&$top=999"]
        while stack:
            for f in self.pages(stack.pop(), conn):
                out.append(f)
                stack.append(f"/v1.0/users/{user}/mailFolders/{f['id']}/childFolders"
                             "?includeHiddenFolders=true&$top=999")
        return out

    def drive_files(self, user, conn):
        """(drive id, [file items]) of the user's OneDrive, through its delta."""
        drive = self.json("GET", f"/v1.0/users/{user}/drive", conn=conn)["id"]
        files = [i for i in self.pages(f"/v1.0/drives/{drive}/root/delta", conn)
                 if "file" in i and "@removed" not in i and "deleted" not in i]
        return drive, files

    def file_bytes(self, drive, item, conn):
        """A file's content: /content answers 302 to a download URL on the simulator."""
        c = conn
        h = {"Authorization": "Bearer " + self.token}
        c.request("GET", f"/v1.0/drives/{drive}/items/{item}/content", None, h)
        r = c.getresponse()
        data = r.read()
        if r.status in (301, 302, 303, 307):
            loc = urllib.parse.urlsplit(r.getheader("Location"))
            c.request("GET", loc._replace(scheme="", netloc="").geturl())
            r = c.getresponse()
            data = r.read()
        if r.status != 200:
            raise RuntimeError(f"file {item}: {r.status} {data[:200]!r}")
        return data

    def message_ids(self, user, folder, conn):
        return [m["id"] for m in self.pages(
            f"/v1.0/users/{user}/mailFolders/{folder}/messages?$top=999&$select=id,isRead", conn)]


def export_mailbox(g, user, dest):
    """Writes each message's MIME ($value, what the server stores) to dest/<folder>/<id>.eml."""
    conn = g._conn()
    n = size = 0
    for f in g.folders(user, conn):
        d = dest / f["id"]
        d.mkdir(parents=True, exist_ok=True)
        for mid in g.message_ids(user, f["id"], conn):
            mime = g.call("GET", f"/v1.0/users/{user}/messages/{mid}/$value", conn=conn)
            (d / f"{mid}.eml").write_bytes(mime)
            n += 1
            size += len(mime)
    conn.close()
    return n, size


def export_drive(g, user, dest):
    """Writes each OneDrive file's bytes to dest/<id>-<name> (a rename changes the path)."""
    conn = g._conn()
    n = size = 0
    try:
        drive, files = g.drive_files(user, conn)
    except RuntimeError:  # a user without a OneDrive (a shared mailbox)
        conn.close()
        return 0, 0
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        data = g.file_bytes(drive, f["id"], conn)
        (dest / f"{f['id']}-{f['name']}").write_bytes(data)
        n += 1
        size += len(data)
    conn.close()
    return n, size


def export_all(g, users, dest):
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        res = list(pool.map(lambda u: export_mailbox(g, u["id"], dest / u["id"]), users))
        fres = list(pool.map(lambda u: export_drive(g, u["id"], dest / u["id"] / "_drive"), users)) \
            if FILES else []
    return (sum(r[0] for r in res), sum(r[1] for r in res),
            sum(r[0] for r in fres), sum(r[1] for r in fres))


def change_files(g, users, total, export_dir=None):
    """Changes CHANGE_PCT % of `total` files: half renamed, half rewritten with new bytes of the same
    size, round-robin over the OneDrives; the exported copy gets the same changes."""
    count = max(2, math.ceil(total * CHANGE_PCT / 100))
    renames, edits = count // 2, count - count // 2
    conn = g._conn()
    drives = {}
    for u in users:
        try:
            drives[u["id"]] = g.drive_files(u["id"], conn)
        except RuntimeError:
            pass
    owners = [u for u in drives if drives[u][1]]
    done = {"renamed": 0, "rewritten": 0, "changed": 0}
    for k in range(count):
        u = owners[k % len(owners)]
        drive, files = drives[u]
        f = files[(k // len(owners)) % len(files)]
        d = export_dir / u / "_drive" if export_dir is not None else None
        if k < renames:
            new = "renamed-" + f["name"]
            g.call("PATCH", f"/v1.0/drives/{drive}/items/{f['id']}", {"name": new}, conn)
            if d is not None:
                (d / f"{f['id']}-{f['name']}").rename(d / f"{f['id']}-{new}")
            done["renamed"] += 1
        else:
            data = os.urandom(int(f.get("size", 100_000)))
            c = conn
            c.request("PUT", f"/v1.0/drives/{drive}/items/{f['id']}/content", data,
                      {"Authorization": "Bearer " + g.token, "Content-Type": "application/octet-stream"})
            r = c.getresponse()
            r.read()
            if r.status >= 300:
                raise RuntimeError(f"rewriting {f['id']}: {r.status}")
            if d is not None:
                (d / f"{f['id']}-{f['name']}").write_bytes(data)
            done["rewritten"] += 1
        done["changed"] += 1
    conn.close()
    return done


def change_messages(g, users, total, export_dir=None):
    """Changes CHANGE_PCT % of `total` messages: half PATCHed (isRead flipped), half new in the
    Inbox, spread round-robin over the mailboxes. With `export_dir`, the exported copy gets the
    same changes (new MIME for every touched message), so restic sees the same churn."""
    count = max(2, math.ceil(total * CHANGE_PCT / 100))
    patches, news = count // 2, count - count // 2
    conn = g._conn()
    inbox = {u["id"]: g.json("GET", f"/v1.0/users/{u['id']}/mailFolders/inbox", conn=conn)["id"]
             for u in users}
    ids = {u["id"]: g.message_ids(u["id"], "inbox", conn) for u in users}
    touched = []
    for k in range(patches):
        u = users[k % len(users)]["id"]
        mid = ids[u][k // len(users)]
        g.call("PATCH", f"/v1.0/users/{u}/messages/{mid}", {"isRead": True}, conn)
        touched.append((u, mid))
    for k in range(news):
        u = users[k % len(users)]
        created = g.json("POST", f"/v1.0/users/{u['id']}/mailFolders/inbox/messages", {
            "subject": f"Benchmark change {k}",
            "body": {"contentType": "text", "content": ("A new message for the incremental run. " * 200)
                     + str(k)},
            "from": {"emailAddress": {"address": "bench@example.com"}},
            "toRecipients": [{"emailAddress": {"address": u["userPrincipalName"]}}],
        }, conn)
        touched.append((u["id"], created["id"]))
    if export_dir is not None:
        for u, mid in touched:
            mime = g.call("GET", f"/v1.0/users/{u}/messages/{mid}/$value", conn=conn)
            d = export_dir / u / inbox[u]
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{mid}.eml").write_bytes(mime)
    conn.close()
    return {"patched": patches, "created": news, "changed": count}


def sim_stats(port):
    c = http.client.HTTPConnection(HOST, port, timeout=10)
    c.request("GET", "/_sim/stats")
    return json.loads(c.getresponse().read())


def sim_reset(port):
    c = http.client.HTTPConnection(HOST, port, timeout=10)
    c.request("POST", "/_sim/stats/reset")
    c.getresponse().read()


def set_latency(port, ms):
    c = http.client.HTTPConnection(HOST, port, timeout=10)
    c.request("PUT", "/_sim/faults", json.dumps({"latencyMs": ms}), {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    if r.status >= 300:
        raise RuntimeError(f"setting the simulator latency: {r.status}")


def start_sim(work):
    port = common.free_port()
    args = [str(BIN), "m365-sim", "--listen", f"{HOST}:{port}", "--synthetic-users", str(USERS),
            "--synthetic-messages", str(MESSAGES), "--synthetic-files", str(FILES), "--content-seed", "1"]
    args += os.environ.get("BENCH_SIM_ARGS", "").split()
    p = common.spawn(args, work / "sim.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            sim_stats(port)
            return p, port
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError(f"simulator did not start; see {work / 'sim.log'}")


# ---------------------------------------------------------------- the server over HTTPS


def api(client, method, path, body=None, want=200):
    st, _, data = client.request(method, path, None if body is None else json.dumps(body),
                                 {"Content-Type": "application/json"})
    if st != want:
        raise RuntimeError(f"{method} {path}: {st} {data[:400]!r}")
    return json.loads(data) if data else None


def du(path):
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True,
                              check=True).stdout.split()[0])


def run_job(client, srv, sim_port, job_id, repo_dir, sim=None):
    """Starts the job and waits for its session; returns the measurements of that run. The
    simulator's CPU is recorded too: it generates every message on the same two cores."""
    sim_reset(sim_port)
    common.reset_hwm(srv.pid)
    cpu0 = common.cpu_secs(srv.pid)
    sim_cpu0 = common.cpu_secs(sim.pid) if sim else 0.0
    before = {s["id"] for s in api(client, "GET", f"/v6/Jobs/{job_id}/JobSessions?limit=100")["results"]}
    t0 = time.monotonic()
    api(client, "POST", f"/v6/Jobs/{job_id}/start", {}, want=204)
    session = None
    while time.monotonic() - t0 < RUN_TIMEOUT:
        if session is None:
            new = [s for s in api(client, "GET", f"/v6/Jobs/{job_id}/JobSessions?limit=100")["results"]
                   if s["id"] not in before]
            session = new[0]["id"] if new else None
        if session is not None:
            s = api(client, "GET", f"/v6/JobSessions/{session}")
            if s["status"] not in ("Running", "Queued"):
                break
        time.sleep(0.1)
    else:
        raise RuntimeError(f"the session did not end in {RUN_TIMEOUT} s")
    wall = time.monotonic() - t0
    cpu = common.cpu_secs(srv.pid) - cpu0
    sim_cpu = common.cpu_secs(sim.pid) - sim_cpu0 if sim else None
    stats = sim_stats(sim_port)
    logs = api(client, "GET", f"/v6/JobSessions/{session}/LogItems?limit=1000")["results"]
    logs.sort(key=lambda l: l["usn"])
    st = s["statistics"]
    # The server's own read count per mailbox, from titles like
    # "[Success] Processing mailbox: User 000001 (50 items, 3.5 MB read)" (binary units, as VB365).
    unit = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
    read_bytes = sum(float(m.group(1)) * unit[m.group(2)]
                     for m in (re.search(r"items, ([0-9.]+) (B|KB|MB|GB|TB) read\)", l["title"])
                               for l in logs) if m)
    return {
        "status": s["status"], "wall_s": round(wall, 3),
        "processed_objects": st.get("processedObjects"), "transferred_bytes": st.get("transferredDataBytes"),
        "read_bytes_logged": int(read_bytes),
        "graph_requests": stats.get("graphRequests"), "token_requests": stats.get("tokenRequests"),
        "message_downloads": stats["content"]["messageDownloads"],
        "file_downloads": stats["content"]["fileDownloads"],
        "file_bytes": stats["content"]["fileBytes"],
        "delta_requests": stats["content"]["deltaRequests"],
        "max_concurrent_per_mailbox": stats.get("throttle", {}).get("maxConcurrentPerMailbox"),
        "server_cpu_s": round(cpu, 2), "sim_cpu_s": None if sim_cpu is None else round(sim_cpu, 2), "server_peak_rss_mb": round(common.hwm_mb(srv.pid), 1),
        "repo_bytes": du(repo_dir), "log_titles": [l["title"] for l in logs][:40],
        "sim_stats": stats,
    }


def job_body(repo_id):
    """Every mailbox of the organization: what restic is given the bytes of. `entire` takes the
    whole organization instead (OneDrives and sites too, once the server backs them up)."""
    body = {"name": "Bench", "repositoryId": repo_id, "schedulePolicy": {"type": "ManualOnly"}}
    if SCOPE == "entire":
        body["backupType"] = "EntireOrganization"
    else:
        body["backupType"] = "SelectedItems"
        body["selectedItems"] = [{"type": "PartialOrganization", "mailbox": True, "oneDrive": FILES > 0}]
    return body


def time_v(args, out_file):
    """Runs a command under /usr/bin/time -v; returns wall, CPU and peak RSS."""
    tv = out_file.with_suffix(".time")
    t0 = time.monotonic()
    with open(out_file, "wb") as out:
        subprocess.run(["/usr/bin/time", "-v", "-o", str(tv)] + args, stdout=out, stderr=subprocess.STDOUT,
                       check=True, timeout=RUN_TIMEOUT, env=dict(os.environ, RESTIC_PASSWORD="openvbo-bench"))
    wall = time.monotonic() - t0
    fields = {}
    for line in tv.read_text().splitlines():
        k, _, v = line.strip().rpartition(": ")
        fields[k] = v
    return {"wall_s": round(wall, 3),
            "cpu_s": round(float(fields["User time (seconds)"]) + float(fields["System time (seconds)"]), 2),
            "peak_rss_mb": round(int(fields["Maximum resident set size (kbytes)"]) / 1024, 1)}


def one_latency(work, latency, results):
    d = work / f"lat{latency}"
    d.mkdir()
    sim, sim_port = start_sim(d)
    data = d / "data"
    srv, port, _ = common.start_server(d, data, sim_port)
    try:
        client = common.Client(port, data / "tls" / "cert.pem")
        client.login()
        org = api(client, "POST", "/v6/Organizations", json.loads(common.org_body(0)))
        repo_dir = d / "repo"
        repo = api(client, "POST", "/v6/BackupRepositories", {
            "name": "Bench", "path": str(repo_dir), "retentionType": "SnapshotBased",
            "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"})
        job = api(client, "POST", f"/v6/Organizations/{org['id']}/Jobs", job_body(repo["id"]))
        g = Graph(sim_port)
        users = g.mailbox_users()
        set_latency(sim_port, latency)
        log(f"latency {latency} ms: full backup of {len(users)} mailboxes × {MESSAGES} messages")
        full = run_job(client, srv, sim_port, job["id"], repo_dir, sim)
        log(f"  full: {full['status']} {full['processed_objects']} items in {full['wall_s']} s")
        set_latency(sim_port, 0)
        export = d / "export" if latency == 0 else None
        if export is not None:
            t0 = time.monotonic()
            n, size, nf, fsize = export_all(g, users, export)
            results["export"] = {"messages": n, "files": nf, "message_bytes": size, "file_bytes": fsize,
                                 "bytes": size + fsize, "secs": round(time.monotonic() - t0, 1)}
            log(f"  exported {n} messages, {size / 1e6:.1f} MB, and {nf} files, {fsize / 1e6:.1f} MB (untimed)")
            n, size = n + nf, size + fsize
            rs = d / "restic-repo"
            subprocess.run(["restic", "init", "-q", "-r", str(rs)], check=True,
                           env=dict(os.environ, RESTIC_PASSWORD="openvbo-bench"))
            subprocess.run(["sync"], check=True)
            rfull = time_v(["restic", "-q", "-r", str(rs), "backup", str(export)], d / "restic-full.out")
            rfull.update(items=n, bytes=size, repo_bytes=du(rs))
            results["restic_full"] = rfull
            log(f"  restic full: {rfull['wall_s']} s")
        total = full["message_downloads"]
        change = change_messages(g, users, total, export)
        if FILES:
            fchange = change_files(g, users, full["file_downloads"], export)
            change["files"] = fchange
            change["changed"] += fchange["changed"]
        set_latency(sim_port, latency)
        incr = run_job(client, srv, sim_port, job["id"], repo_dir, sim)
        incr["change"] = change
        log(f"  incremental: {incr['status']} {incr['processed_objects']} items in {incr['wall_s']} s")
        if export is not None:
            subprocess.run(["sync"], check=True)
            rinc = time_v(["restic", "-q", "-r", str(rs), "backup", str(export)], d / "restic-incr.out")
            rinc.update(items=change["changed"], repo_bytes=du(rs))
            results["restic_incr"] = rinc
            log(f"  restic incremental: {rinc['wall_s']} s")
        results["runs"].append({"latency_ms": latency, "mailboxes": len(users), "full": full, "incr": incr})
    finally:
        common.stop(srv)
        common.stop(sim)


def restic_version():
    try:
        return subprocess.run(["restic", "version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main():
    if not BIN.exists():
        sys.exit(f"{BIN} missing: run scripts/bench/backup/run (it builds the release binary)")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    work = Path(tempfile.mkdtemp(prefix="openvbo-backup-bench-"))
    log(f"work dir {work}")
    m = common.machine()
    m.pop("wrk", None)
    m.pop("nginx", None)
    results = {"stamp": stamp, "machine": m, "restic": restic_version(),
               "settings": {"users": USERS, "messages_per_mailbox": MESSAGES, "files_per_onedrive": FILES,
                            "latencies_ms": LATENCIES,
                            "change_pct": CHANGE_PCT, "job_scope": SCOPE,
                            # The server inherits the environment: a raised drive budget is part of the setup.
                            "drive_backup_units_per_minute": os.environ.get("OPENVBO_DRIVE_BACKUP_UNITS_PER_MINUTE")},
               "runs": []}
    try:
        for latency in LATENCIES:
            one_latency(work, latency, results)
    finally:
        if not KEEP:
            shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    raw = OUT / f"backup-{stamp}.json"
    raw.write_text(json.dumps(results, indent=1) + "\n")
    # backup.md shows every run kept in OUT, newest first (one run is not a measurement here).
    runs = sorted(str(p) for p in OUT.glob("backup-*.json"))
    subprocess.run([sys.executable, str(HERE / "report.py"), *runs, str(OUT)], check=True)


if __name__ == "__main__":
    main()
