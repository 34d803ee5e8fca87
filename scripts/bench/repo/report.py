#!/usr/bin/env python3
"""Turns scripts/bench/repo/run's JSON lines into bench/results/repo.{json,md,svg}."""
import json
import os
import platform
import sys
import time

results, out, restic_version = sys.argv[1], sys.argv[2], sys.argv[3]
rows = [json.loads(l) for l in open(results) if l.strip()]
by = {(r["tool"], r["run"]): r for r in rows}
runs = []
for r in rows:
    if r["run"] not in runs:
        runs.append(r["run"])

MiB = 1024 * 1024


def rate(r):
    w = max(r["wall_s"], 1e-9)
    return r["items"] / w, r["bytes"] / MiB / w


lines = [
    "# Repository engine vs restic (same bytes, same machine, same run)",
    "",
    f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {restic_version}; "
    f"{platform.machine()}, 2 vCPU; one run each (no medians); 1-minute load average at the end of the run "
    f"{os.getloadavg()[0]:.2f} (other work on the machine slows both tools, restic more); treat "
    "differences under ~15 % as noise.",
    "- openvbo: `scripts/bench/repo/run` drives `crates/openvbo-repo/examples/repo_bench` "
    "(20 resources written concurrently, 4 at a time; 32 MiB packs; zstd-3; XChaCha20-Poly1305).",
    "",
    "- Local runs share one repository per tool (A, D, B, C in that order): *repo MB* is its size after "
    "the run, *added MB* what the run added. S3 runs go to a local moto_server (Python, single process): "
    "their wall times measure moto more than the tools and only their PUT counts (from moto's request log, "
    "multipart parts included) are meant for comparison. openvbo's PUTs on local runs are the engine's own "
    "counter (files written).",
    "",
    "| run | tool | wall s | items/s | MiB/s | peak RSS MB | CPU s | repo MB | added MB | objects | PUTs |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]
prev_stored = {}
for run in runs:
    for tool in ("openvbo", "restic"):
        r = by.get((tool, run))
        if not r:
            continue
        ips, mbs = rate(r)
        stored = r.get("stored_bytes")
        added = None
        if stored is not None:
            added = stored - prev_stored.get(tool, 0)
            prev_stored[tool] = stored
            r["added_bytes"] = added
        puts = r.get("s3_puts", r.get("puts") if tool == "openvbo" else None)
        lines.append(
            f"| {run} | {tool} | {r['wall_s']:.2f} | {f'{ips:,.0f}' if r['items'] > 1 else ''} | "
            f"{f'{mbs:,.1f}' if r['bytes'] else ''} | {r['rss_mb']:.0f} | "
            f"{r['cpu_s']:.2f} | {'' if stored is None else f'{stored / 1e6:,.1f}'} | "
            f"{'' if added is None else f'{added / 1e6:,.1f}'} | "
            f"{r.get('objects', '')} | {'' if puts is None else puts} |"
        )

ratios = []
for run in runs:
    o, r = by.get(("openvbo", run)), by.get(("restic", run))
    if not o or not r:
        continue
    speed = r["wall_s"] / max(o["wall_s"], 1e-9)
    rss = o["rss_mb"] / max(r["rss_mb"], 1e-9)
    # Only where the run added a meaningful amount (a re-run adds a few KB of metadata).
    stored = (o["added_bytes"] / r["added_bytes"]) if (r.get("added_bytes") or 0) > 5e6 else None
    ratios.append((run, speed, rss, stored))
lines += ["", "Ratios (openvbo vs restic, same run): speed = restic wall / openvbo wall (> 1 is faster); "
          "RSS and stored (bytes added by the run) = openvbo / restic (< 1 is leaner).", "",
          "| run | speed × | RSS × | stored × |", "|---|---:|---:|---:|"]
for run, speed, rss, stored in ratios:
    lines.append(f"| {run} | {speed:.2f} | {rss:.2f} | {'' if stored is None else f'{stored:.2f}'} |")

# PUTs per GiB of new data (S3 first backups).
for run in ("S3-A-first", "S3-B-first"):
    for tool in ("openvbo", "restic"):
        r = by.get((tool, run))
        if r and r.get("s3_puts") is not None:
            lines.append("")
            lines.append(f"- {run} {tool}: {r['s3_puts']} PUTs for {r['bytes'] / 2**30:.2f} GiB "
                         f"= {r['s3_puts'] / (r['bytes'] / 2**30):.0f} PUTs/GiB")
open(f"{out}/repo.md", "w").write("\n".join(lines) + "\n")
json.dump({"restic": restic_version, "rows": rows}, open(f"{out}/repo.json", "w"), indent=1)

# A dependency-free SVG bar chart of the speed ratio per run.
w, h, left, bar = 720, 40 + 28 * len(ratios), 120, 22
mx = max([s for _, s, _, _ in ratios] + [3.0])
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
       f'<text x="10" y="18" font-weight="bold">openvbo speed vs restic (restic wall / openvbo wall), same run</text>']
scale = (w - left - 60) / mx
for i, (run, s, _, _) in enumerate(ratios):
    y = 30 + i * 28
    svg.append(f'<text x="10" y="{y + 15}">{run}</text>')
    color = "#2a7" if s >= 3 else ("#58c" if s >= 1 else "#c55")
    svg.append(f'<rect x="{left}" y="{y}" width="{s * scale:.1f}" height="{bar}" fill="{color}"/>')
    svg.append(f'<text x="{left + s * scale + 5:.1f}" y="{y + 15}">{s:.2f}×</text>')
for x, label in ((1, "1× (parity)"), (3, "3× (target)")):
    xx = left + x * scale
    svg.append(f'<line x1="{xx:.1f}" y1="26" x2="{xx:.1f}" y2="{h - 4}" stroke="#333" stroke-dasharray="4 3"/>')
    svg.append(f'<text x="{xx + 3:.1f}" y="{h - 6}" fill="#333">{label}</text>')
svg.append("</svg>")
open(f"{out}/repo.svg", "w").write("\n".join(svg) + "\n")
print("\n".join(lines))
