#!/usr/bin/env python3
"""Turns backup-bench results (bench/results/backup-STAMP.json) into bench/results/backup.md
(one table, ratios and targets per run, newest first) and backup.svg (a dependency-free chart of
the newest run).

usage: report.py RESULT.json [RESULT.json ...] OUT_DIR"""
import json
import sys
from pathlib import Path

sources, out = [Path(a) for a in sys.argv[1:-1]], Path(sys.argv[-1])
MB = 1e6


def per(a, b):
    return a / b if b else float("nan")


def ok(flag):
    return "met" if flag else "**missed**"


def render(R):
    """Markdown lines for one result, and its rows (for the chart)."""
    m, s = R["machine"], R["settings"]
    # Results before `job_scope` existed used an EntireOrganization job (mail only at the time).
    job = ("`EntireOrganization` job" if s.get("job_scope", "entire") == "entire"
           else "`SelectedItems` job of every mailbox and OneDrive (`PartialOrganization`, `mailbox: true`, "
           "`oneDrive: true`)" if s.get("files_per_onedrive")
           else "`SelectedItems` job of every mailbox (`PartialOrganization`, `mailbox: true`)")
    rows = []
    for run in R["runs"]:
        for kind in ("full", "incr"):
            r = run[kind]
            items = r["message_downloads"] + r.get("file_downloads", 0)
            # Bytes read from Microsoft: the server's log per mailbox, in binary units rounded to 0.1
            # (older results kept the MiB figure as `read_mb_logged`).
            nbytes = r.get("read_bytes_logged", r.get("read_mb_logged", 0) * 2**20)
            base = r["change"]["changed"] if kind == "incr" else items
            rows.append({
                "latency": run["latency_ms"], "kind": kind, "status": r["status"], "items": items,
                "processed": r["processed_objects"], "mb": nbytes / MB, "wall": r["wall_s"],
                "ips": per(items, r["wall_s"]), "mbps": per(nbytes / MB, r["wall_s"]),
                "req_per_item": per(r["graph_requests"], base), "graph": r["graph_requests"],
                "cpu_per_k": per(r["server_cpu_s"] * 1000, items), "cpu": r["server_cpu_s"],
                "rss": r["server_peak_rss_mb"], "repo_mb": r["repo_bytes"] / MB,
                "per_mailbox": r.get("max_concurrent_per_mailbox"), "base": base,
                "written_mb": (r["transferred_bytes"] or 0) / MB, "sim_cpu": r.get("sim_cpu_s"),
                "messages": r["message_downloads"], "files": r.get("file_downloads", 0),
            })

    L = [f"# Backup benchmark {R['stamp']}", ""]
    L.append(f"- Machine: {m['nproc']} vCPU {m['cpu']}, {m['ram_gib']} GiB, Linux {m['kernel']}; {m['rustc']}; "
             f"openvbo {m['commit']}; {R['restic']}.")
    files = s.get("files_per_onedrive", 0)
    units = s.get("drive_backup_units_per_minute")
    L.append("- Server drive budget: " + (f"`OPENVBO_DRIVE_BACKUP_UNITS_PER_MINUTE={units}` SharePoint resource units "
             "a minute (raised so the run measures the engine, not the politeness budget)" if units else "the default 1,000 SharePoint resource units a minute for backups") + ".")
    if files:
        L.append(f"- Tenant: simulator `synth0`, {s['users']} synthetic users (every 10th a shared mailbox, "
                 f"without a OneDrive), {s['messages_per_mailbox']:,} generated messages per mailbox (bodies "
                 f"~4–60 KB, every 8th with an attachment) and {files} generated files per OneDrive (50–800 KB, "
                 "median 200 KB, one in a hundred 10–20 MB). Scaled down from issue 10's 100 users × 2,000 "
                 "messages + 200 files to fit about 15 minutes of this machine.")
    else:
        L.append(f"- Tenant: simulator `synth0`, {s['users']} synthetic users (every 10th a shared mailbox), "
                 f"{s['messages_per_mailbox']} generated messages per mailbox (bodies ~4–60 KB, every 8th with an "
                 "attachment). Scaled down from issue 10's 100 users × 2,000 messages + 200 files to keep a run "
                 "within minutes on this machine; files are not in it because the server backed up mail only then.")
    L.append(f"- Driven over HTTPS through the v6 jobs routes (one {job}, `POST …/start`, "
             "session polled every 100 ms). Items = the simulator's `messageDownloads` + `fileDownloads`; MB = MIME "
             "and file bytes read from Microsoft as the session log reports them per mailbox and OneDrive; written MB = the session's "
             "`transferredDataBytes` (compressed, deduplicated, encrypted); Graph requests = the simulator's `graphRequests` (token requests not "
             "included); CPU and peak RSS are the server process's (VmHWM reset before each run).")
    if files:
        L.append(f"- Incremental: {s['change_pct']} % of the messages changed through Graph first (half PATCHed "
                 f"`isRead`, half new) and {s['change_pct']} % of the files (half renamed, half rewritten); its "
                 "requests per item are per *changed* item (messages + files); a renamed file must cost no "
                 "download.")
    else:
        L.append(f"- Incremental: {s['change_pct']} % of the messages changed through Graph first (half PATCHed "
                 "`isRead`, half new); its requests per item are per *changed* item.")
    L.append("- One run each, no medians, on a shared 2-core VM (runs with other work on it are said so in "
             "their notes): treat differences under ~15 % as noise. The simulator runs on the same 2 cores.")
    L += ["", "| latency | run | status | items | MB read | wall s | items/s | MB/s | Graph req/item | "
          "CPU s/1k items | simulator CPU s | peak RSS MB | written MB | repo MB | max in flight/mailbox |",
          "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        sim_cpu = "" if r["sim_cpu"] is None else f"{r['sim_cpu']:.1f}"
        L.append(f"| {r['latency']} ms | {r['kind']} | {r['status']} | {r['items']:,} | {r['mb']:,.1f} | "
                 f"{r['wall']:.2f} | {r['ips']:,.0f} | {r['mbps']:,.1f} | {r['req_per_item']:.2f} | "
                 f"{r['cpu_per_k']:.2f} | {sim_cpu} | "
                 f"{r['rss']:.0f} | {r['written_mb']:,.1f} | {r['repo_mb']:,.1f} | "
                 f"{r['per_mailbox']} |")
    rf, ri = R.get("restic_full"), R.get("restic_incr")
    if rf:
        L.append(f"| – | restic full, same bytes from a local dir | | {rf['items']:,} | {rf['bytes'] / MB:,.1f} | "
                 f"{rf['wall_s']:.2f} | {per(rf['items'], rf['wall_s']):,.0f} | "
                 f"{per(rf['bytes'] / MB, rf['wall_s']):,.1f} | | {per(rf['cpu_s'] * 1000, rf['items']):.2f} | | "
                 f"{rf['peak_rss_mb']:.0f} | | {rf['repo_bytes'] / MB:,.1f} | |")
    if ri:
        L.append(f"| – | restic incremental | | {ri['items']:,} | | {ri['wall_s']:.2f} | | | | | | "
                 f"{ri['peak_rss_mb']:.0f} | | {ri['repo_bytes'] / MB:,.1f} | |")
    if R.get("export"):
        e = R["export"]
        full0 = next((r for r in rows if r["kind"] == "full" and r["latency"] == 0), None)
        if "files" in e:
            L += ["", f"The export for restic read {e['messages']:,} messages ({e['message_bytes'] / MB:,.1f} MB "
                  f"of MIME) and {e['files']:,} files ({e['file_bytes'] / MB:,.1f} MB) from the simulator; the "
                  f"server's full run downloaded {full0['messages'] if full0 else 0:,} messages and "
                  f"{full0['files'] if full0 else 0:,} files."]
        else:
            L += ["", f"The export for restic read {e['messages']:,} messages ({e['bytes'] / MB:,.1f} MB of MIME) "
                  "from the simulator; the server's full run downloaded "
                  f"{full0['items'] if full0 else 0:,}."]
        for run in R["runs"]:
            fc = run["incr"].get("change", {}).get("files")
            if fc:
                got = run["incr"].get("file_downloads", 0)
                why = (" (a rename is free only when the base recorded the file's quickXorHash: the simulator "
                       "then gave generated files one only after their first download, so these were read again)"
                       if got > fc["rewritten"] else ": the renames cost no download")
                mc = run["incr"].get("change", {})
                msgs = (f"; {mc['patched']} messages re-flagged and {mc['created']} new, "
                        f"{run['incr'].get('message_downloads', 0)} messages downloaded"
                        if "patched" in mc else "")
                inc = run["incr"]
                downloads = inc.get("message_downloads", 0) + got
                delta = inc.get("delta_requests") or 0
                rest = (inc.get("graph_requests") or 0) - downloads - delta
                split = (f" Its {inc.get('graph_requests', 0):,} Graph requests: {downloads:,} downloads, "
                         f"{delta:,} delta pages (folders and drives), {rest:,} others (folder-tree listings, "
                         "OneDrive lookups, the user listing)." if delta else "")
                L.append(f"Incremental at {run['latency_ms']} ms: {fc['renamed']} files renamed and "
                         f"{fc['rewritten']} rewritten; the server downloaded {got} files{why}{msgs}.{split}")

    # Targets (issue 10), from this run's numbers only.
    L += ["", "## Targets (issue 10), this run", "", "| target | measured | |", "|---|---|---|"]
    full0 = next((r for r in rows if r["kind"] == "full" and r["latency"] == 0), None)
    if full0 and rf:
        ratio = full0["mbps"] / per(rf["bytes"] / MB, rf["wall_s"])
        L.append(f"| full backup ≥ 0.5× restic's throughput on the same bytes (0 ms) | {ratio:.2f}× "
                 f"({full0['mbps']:.1f} vs {per(rf['bytes'] / MB, rf['wall_s']):.1f} MB/s) | {ok(ratio >= 0.5)} |")
    for r in rows:
        what = "per backed-up item (full)" if r["kind"] == "full" else "per changed item (incremental)"
        L.append(f"| ≤ 1.1 Graph requests {what}, {r['latency']} ms | {r['req_per_item']:.2f} "
                 f"({r['graph']:,} for {r['base']:,}) | {ok(r['req_per_item'] <= 1.1)} |")
    for run in R["runs"]:
        f, i = run["full"]["wall_s"], run["incr"]["wall_s"]
        L.append(f"| incremental ≤ 5 % of the full run's time, {run['latency_ms']} ms | {100 * i / f:.1f} % "
                 f"({i:.2f} s vs {f:.2f} s) | {ok(i <= 0.05 * f)} |")
    peak = max(r["rss"] for r in rows)
    L.append(f"| peak RSS ≤ 150 MB | {peak:.0f} MB (server process) | {ok(peak <= 150)} |")
    full50 = next((r for r in rows if r["kind"] == "full" and r["latency"] == 50), None)
    if full0 and full50:
        L.append(f"| at 50 ms, throughput grows with concurrency up to the per-mailbox limit | "
                 f"{full50['ips']:,.0f} items/s at 50 ms vs {full0['ips']:,.0f} at 0 ms; at most "
                 f"{full50['per_mailbox']} request(s) in flight per mailbox (limit 4) | "
                 f"{ok((full50['per_mailbox'] or 0) >= 4)} |")
    # What a person read in the numbers, kept beside the raw result (`backup-STAMP.notes.md`),
    # since this file is regenerated from the JSON results every run.
    notes = out / f"backup-{R['stamp']}.notes.md"
    if notes.exists():
        L += [""] + notes.read_text().rstrip("\n").split("\n")
    return L, rows


results = sorted((json.loads(p.read_text()) for p in sources), key=lambda r: r["stamp"], reverse=True)
L, bars = [], []
for k, R in enumerate(results):
    lines, rows = render(R)
    if k:
        lines = ["#" + l if l.startswith("#") else l for l in lines]
        L.append("")
    L += lines
    # Chart: the full runs' MB/s of each result, restic's beside them.
    stamp = R["stamp"]
    bars += [(f"{stamp} {r['latency']} ms full", r["mbps"], "#58c") for r in rows if r["kind"] == "full"]
    rf = R.get("restic_full")
    if rf:
        bars.append((f"{stamp} restic (local dir)", per(rf["bytes"] / MB, rf["wall_s"]), "#999"))
(out / "backup.md").write_text("\n".join(L) + "\n")

w, left, bh = 780, 250, 22
h = 40 + 28 * len(bars)
mx = max([b[1] for b in bars if b[1] == b[1]] + [1.0])
scale = (w - left - 70) / mx
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" '
       'font-size="12">',
       '<text x="10" y="18" font-weight="bold">Full backup throughput, MB/s of MIME: openvbo over '
       'HTTPS from the simulator vs restic from a local dir</text>']
for k, (label, v, color) in enumerate(bars):
    y = 30 + 28 * k
    v = v if v == v else 0.0
    svg.append(f'<text x="10" y="{y + 15}">{label}</text>')
    svg.append(f'<rect x="{left}" y="{y}" width="{v * scale:.1f}" height="{bh}" fill="{color}"/>')
    svg.append(f'<text x="{left + v * scale + 5:.1f}" y="{y + 15}">{v:,.1f}</text>')
svg.append("</svg>")
(out / "backup.svg").write_text("\n".join(svg) + "\n")
print("\n".join(L))
