#!/usr/bin/env python3
"""Turns run.sh's measurements into RESULTS.md and an SVG chart.

Usage: report.py RESULTS.jsonl META.json RESULTS.md CHART.svg
"""

import json
import os
import math
import statistics
import sys

SCENARIOS = [
    ("healthz", "`/healthz` (floor)"),
    ("first_page", "first page, with total"),
    ("deep_page", "deep page"),
    ("search_name", "search: name fragment"),
    ("search_phone", "search: phone fragment"),
    ("search_email_domain", "search: email domain"),
    ("search_none", "search: no match"),
    ("search_broad", "search: ~10% of rows"),
    ("create", "create (unique phones)"),
    ("mix_90_10", "90% first page / 10% create"),
]
SELECTIVE = ["search_name", "search_phone", "search_email_domain", "search_none"]


def load(results_path, meta_path):
    results = {}
    for line in open(results_path):
        r = json.loads(line)
        # wrk's own figure is rounded to 0.1; at well under one request a second that
        # hides a third of the value.
        r["rps"] = r["requests"] / r["duration_s"] if r["duration_s"] else 0.0
        results[(r["system"], r["scenario"])] = r
    return results, json.load(open(meta_path))


def fmt_rps(r):
    if r is None:
        return "—"
    return f"{r['rps']:,.0f}" if r["rps"] >= 10 else f"{r['rps']:.2f}"


def completed(r):
    """False when not one request finished within the run: its latencies mean nothing."""
    return r is not None and r["requests"] > 0


def fmt_ms(value):
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def row_cells(r):
    if r is None:
        return ["—"] * 4
    if not completed(r):
        return ["0", "none done", "none done", f"{r['errors']:,}"]
    rps = fmt_rps(r)
    if r["requests"] < 100:
        # So few samples that p99 is close to the slowest one: say how few.
        rps += f" (n={r['requests']})"
    return [rps, fmt_ms(r["p50_ms"]), fmt_ms(r["p99_ms"]), f"{r['errors']:,}"]


def verdict(ok):
    return "**met**" if ok else "**missed**"


def write_markdown(results, meta, path, chart_name, out_dir):
    k = lambda s: results.get(("kontak", s))
    p = lambda s: results.get(("pocketbase", s))
    size = meta["size"]
    terms = meta["terms"]
    lines = [
        "# kontak vs PocketBase at %s contacts" % f"{size:,}",
        "",
        f"Measured by `bench/run.sh` on {meta['date']}, {meta['cpus']} cores, with "
        f"wrk {meta['wrk']} (`-t{meta['threads']} -d{meta['duration_s']}s --timeout 30s`, "
        f"{meta['connections']} connections, {meta['search_connections']} for searches, which run {meta['search_duration_s']} s; "
        f"all on 127.0.0.1) against kontak's release build and "
        f"PocketBase {meta['pocketbase']}, {scenario_order(meta)} on the same data. "
        f"Load average before / after the run: {meta['load_before']} / "
        f"{meta['load_after']} (the machine is shared: other work may have been running).",
        "",
        "## Requests",
        "",
        "Latencies in milliseconds, over the requests that completed (n= gives their number "
        "where it is under 100); \"none done\" means "
        "not one request finished within the scenario's time. Errors are socket errors, "
        "timeouts (30 s) and non-2xx answers. The ratio is kontak's req/s over "
        "PocketBase's.",
        "",
        "| Scenario | conns | kontak req/s | p50 | p99 | errors | PocketBase req/s | p50 | p99 | errors | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in SCENARIOS:
        kr, pr = k(key), p(key)
        ratio = "—"
        if completed(kr) and completed(pr):
            ratio = f"{kr['rps'] / pr['rps']:.2f}×"
        conns = str((kr or pr or {}).get("connections", "—"))
        lines.append("| " + " | ".join([label, conns] + row_cells(kr) + row_cells(pr) + [ratio]) + " |")

    floor = meta["floor"]["rows_per_sec"]
    create_floor, create_floor_text = floor_for_creates(meta)
    kcold = statistics.median(meta["kontak_cold_start_ms"])
    pcold = statistics.median(meta["pocketbase_cold_start_ms"])
    krss = meta["kontak_peak_rss_kib"] / 1024
    prss = meta["pocketbase_peak_rss_kib"] / 1024
    lines += [
        "",
        f"![req/s per scenario, log scale]({chart_name})",
        "",
        "## The rest",
        "",
        "| | kontak | PocketBase |",
        "|---|---:|---:|",
        f"| load {size:,} contacts | {meta['kontak_import_s']:.1f} s (`kontak import`) | "
        f"{meta['pocketbase_import_s']:.1f} s (rows written into its SQLite file, see below) |",
        f"| database size after load | {meta['kontak_db_bytes'] / 2**20:,.0f} MiB | "
        f"{meta['pocketbase_db_bytes'] / 2**20:,.0f} MiB |",
        f"| cold start to first healthy answer (median of 3) | {kcold:.0f} ms | {pcold:.0f} ms |",
        f"| peak RSS after the read scenarios | {meta['kontak_peak_rss_reads_kib'] / 1024:.0f} MiB | "
        f"{meta['pocketbase_peak_rss_reads_kib'] / 1024:.0f} MiB |",
        f"| peak RSS over the whole run (creates included) | {krss:.0f} MiB | {prss:.0f} MiB |",
        "",
        f"Floors measured in the same run: `/healthz` "
        f"{fmt_rps(k('healthz'))} req/s (PocketBase's `/api/health`: {fmt_rps(p('healthz'))}); "
        f"single-row transactions in process (rusqlite, kontak's schema, WAL, "
        f"synchronous=NORMAL, {floor_rows(meta)}, indexed for search as the server does "
        f"it, the search queue applied once a thousand changes wait): "
        f"{floor:,.0f} rows/s{create_floor_text}.{untagged_floor_text(meta)}",
        "",
    ]
    lines += list_shapes(out_dir)
    lines += targets(k, p, create_floor, kcold, krss, meta)
    lines += analysis()
    lines += method(meta, terms)
    open(path, "w").write("\n".join(lines) + "\n")


def around_creates(meta, rate):
    """A floor's `rate` in the samples taken just before and just after kontak's
    creates, those the run took."""
    return [meta[key][rate] for key in ("floor_before_create", "floor_after_create")
            if rate in meta.get(key, {})]


def floor_for_creates(meta):
    """The floor kontak's creates are held to, and how the floors line words it: the
    higher of the two measured just before and just after the creates, when the run
    took them (runs before them had only the first)."""
    around = around_creates(meta, "rows_per_sec")
    if len(around) < 2:
        return meta["floor"]["rows_per_sec"], ""
    text = (f" before the scenarios, and {around[0]:,.0f} and {around[1]:,.0f} rows/s "
            f"just before and just after kontak's creates, which are held to the higher "
            f"of these two")
    return max(around), text


def took_turns(meta):
    """Whether the run took each scenario against both systems in turn (from
    2026-11-29's last runs on, as meta.json says), rather than all of kontak's
    scenarios and then PocketBase's."""
    return meta.get("scenario_order") == "side_by_side"


def scenario_order(meta):
    """How the two systems took turns, as the first paragraph words it."""
    if took_turns(meta):
        return ("both serving at once, each scenario run against kontak and then "
                "straight away against PocketBase,")
    return "one after the other"


def order_note(meta):
    """The order of the run's steps, as the method's list words it."""
    starts = "cold starts (three, median kept; the third server stays up)"
    if took_turns(meta):
        return (f"- Order: kontak's {starts}, then PocketBase's; then the scenarios in "
                "the table's order, each against kontak and then against PocketBase, "
                "with both servers up. Each scenario, and each floor around kontak's "
                "creates, starts once the two servers together have used under 5% of a "
                "core for two seconds running: PocketBase writes its request log after "
                "a burst (after 10 s of `/api/health`, 0.85 of a core for 12 s), which "
                "would otherwise run into kontak's next scenario. Only creates differ: "
                "the floor is taken just before and just after kontak's. Peak RSS is each "
                "server's VmHWM after the searches and at the end.")
    return (f"- Order per system: {starts}, then the scenarios in the table's order; peak "
            "RSS is the server's VmHWM at the end. kontak runs first, then PocketBase, "
            "never both at once.")


def floor_rows(meta):
    """What the floor's rows were: the creates scenario's contacts from 2026-11-29 on
    (such runs also measured the untagged rows), one fixed untagged row before."""
    if "untagged_rows_per_sec" in meta["floor"]:
        return "each row the contact the creates scenario posts, with its two tags' links"
    return "each row one fixed name and email, no tags"


def untagged_floor_text(meta):
    """The floor's untagged rows (one fixed name, no tags: its row until 2026-11-29),
    measured after each floor, when the run took them."""
    keys = [key for key in ("floor", "floor_before_create", "floor_after_create")
            if "untagged_rows_per_sec" in meta.get(key, {})]
    if not keys:
        return ""
    rates = ", ".join(f"{meta[key]['untagged_rows_per_sec']:,.0f}" for key in keys)
    return (f" The same floors with the rows they wrote until 2026-11-29 (one fixed "
            f"name and email, no tags), each measured right after: {rates} rows/s.")


def untagged_ratio_text(rps, meta):
    """Creates as a ratio to the untagged floor around them, when the run took it."""
    around = around_creates(meta, "untagged_rows_per_sec")
    if not around:
        return ""
    return f" ({rps / max(around):.2f}× the untagged floor)"


def targets(k, p, floor, kcold, krss, meta):
    matches = meta["terms"]["matches"]
    out = ["## Targets (issue 3)", "", "| Target | Measured | |", "|---|---|---|"]
    behind = [key for key, _ in SCENARIOS[1:]
              if k(key) and p(key) and k(key)["rps"] <= p(key)["rps"]
              and not (k(key)["rps"] == 0 and not completed(p(key)))]
    behind += [key for key, _ in SCENARIOS[1:]
               if not completed(k(key)) and key not in behind]
    out.append("| ahead of PocketBase on every scenario | behind on: "
               + (", ".join(behind) if behind else "none") + f" | {verdict(not behind)} |")
    first, health = k("first_page"), k("healthz")
    share = first["rps"] / health["rps"]
    out.append(f"| first page with total ≥ 10,000 req/s and ≥ 30% of `/healthz` | "
               f"{first['rps']:,.0f} req/s, {share:.1%} of `/healthz` | "
               f"{verdict(first['rps'] >= 10_000 and share >= 0.30)} |")
    for key, scale in (("first_page", "first page"),) + tuple((s, s) for s in SELECTIVE):
        kr, pr = k(key), p(key)
        if completed(kr) and completed(pr) and pr["rps"] > 0:
            ratio = kr["rps"] / pr["rps"]
            out.append(f"| {scale} ≥ 1,000× PocketBase's req/s | {ratio:,.0f}× | "
                       f"{verdict(ratio >= 1000)} |")
    for key in SELECTIVE:
        r = k(key)
        # The selective class is ≤ 100 hits; terms with more are held to the
        # same latency target anyway, with their match count shown.
        hits = matches.get(key.removeprefix("search_"))
        label = f"selective search ({key}, {hits:,} matches)" if hits is not None \
            else f"selective search ({key})"
        if not completed(r):
            out.append(f"| {label} p50 ≤ 5 ms, p99 ≤ 20 ms | no request "
                       f"completed in {r['duration_s']:.0f} s | {verdict(False)} |")
            continue
        out.append(f"| {label} p50 ≤ 5 ms, p99 ≤ 20 ms | p50 {fmt_ms(r['p50_ms'])} ms, "
                   f"p99 {fmt_ms(r['p99_ms'])} ms | {verdict(r['p50_ms'] <= 5 and r['p99_ms'] <= 20)} |")
    broad = k("search_broad")
    broad_ok = completed(broad) and broad["p50_ms"] <= 150
    broad_text = (f"p50 {fmt_ms(broad['p50_ms'])} ms" if completed(broad)
                  else f"no request completed in {broad['duration_s']:.0f} s")
    out.append(f"| broad search p50 ≤ 150 ms | {broad_text} | {verdict(broad_ok)} |")
    create = k("create")
    out.append(f"| creates ≥ 2× the autocommit floor, zero errors | {create['rps']:,.0f} req/s = "
               f"{create['rps'] / floor:.2f}× the floor{untagged_ratio_text(create['rps'], meta)}, "
               f"{create['errors']} errors | "
               f"{verdict(create['rps'] >= 2 * floor and create['errors'] == 0)} |")
    size, seconds = meta["size"], meta["kontak_import_s"]
    if size == 1_000_000:
        out.append(f"| import of 1,000,000 contacts in under 60 s | {seconds:.1f} s | "
                   f"{verdict(seconds < 60)} |")
    out.append(f"| peak RSS ≤ 150 MiB | {krss:.0f} MiB | {verdict(krss <= 150)} |")
    out.append(f"| cold start ≤ 300 ms | {kcold:.0f} ms | {verdict(kcold <= 300)} |")
    return out + [""]


def list_shapes(out_dir):
    """The table bench/list_shapes.sh wrote in this run, if it ran."""
    path = os.path.join(out_dir, "list_shapes.md")
    if not os.path.exists(path):
        return []
    return [
        "## Sorts and tag filters (kontak only)",
        "",
        "One request at a time (`bench/list_shapes.sh`, 5 rounds each), after the "
        "scenarios above, so the totals include the contacts they created. Times are "
        "curl's, in milliseconds.",
        "",
        open(path).read().rstrip(),
        "",
    ]


def analysis():
    """The hand-written reading of the figures (bench/ANALYSIS.md): where the time
    goes and why each missed target is missed. Kept in its own file so that a new
    run rewrites the numbers above without losing it; it cites the run it was
    written against, so a reader can tell when it is out of date."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ANALYSIS.md")
    if not os.path.exists(path):
        return []
    return [open(path).read().rstrip(), ""]


def method(meta, terms):
    m = meta["terms"]["matches"]
    t = meta["terms"]["terms"]
    return [
        "## How it was measured",
        "",
        f"- Data: `bench/gen_contacts.py {meta['size']}` writes the same contacts on every "
        "machine (seeded): Indonesian-looking names, `+628…` numbers, emails, tags such as "
        "customer/vip/lead, and custom fields of every type. Both systems get exactly "
        "these rows.",
        "- kontak: `kontak import` into workspace `bench`, then `kontak key create`; "
        "requests carry that bearer key. The server runs with its defaults (per-request "
        "log lines at `info`, to a file).",
        "- PocketBase: `pocketbase migrate up` creates the `contacts` collection from "
        "`bench/pocketbase/pb_migrations` (text fields phone, name, email; json fields "
        "tags, custom_fields; autodate created/updated; a unique index on phone and an "
        "index on created; list, view and create rules `\"\"`, so no auth token is sent). "
        "Its REST API creates about a thousand records a second, so the rows are "
        "written by `bench/load_pocketbase.py` straight into `pb_data/data.db` in one "
        "transaction, as PocketBase stores them, with `created` one millisecond apart "
        "in file order. Its load time is therefore not comparable with kontak's "
        "(which validates every row); it is shown for the record.",
        "- Equivalent queries: kontak `GET /v1/contacts?page=N&per_page=20[&search=T]`; "
        "PocketBase `GET /api/collections/contacts/records?page=N&perPage=20&sort=-created"
        "[&filter=(name~'T'||email~'T'||phone~'T')]`, which also counts the total. Deep page: "
        f"page {meta['deep_page']} (page 5000 at a million, scaled with the size).",
        "- Search terms and how many rows each matches (counted by the generator): "
        + "; ".join(f"{key} `{t[key]}` {m[key]:,}" for key in t) + ".",
        "- Creates: wrk's Lua script (`bench/wrk/scenario.lua`) posts unique 14-digit "
        "phones, so none collides with the data or another scenario. The 90/10 mix "
        "picks at random per request.",
        order_note(meta),
        "",
    ]


def write_chart(results, path):
    rows = [(key, label.replace("`", "")) for key, label in SCENARIOS]
    values = [r["rps"] for r in results.values() if r["rps"] > 0]
    top = 10 ** math.ceil(math.log10(max(values)))
    bottom = 10 ** math.floor(math.log10(min(values)))
    left, width, bar, gap = 250, 560, 12, 14
    height = 60 + len(rows) * (2 * bar + gap) + 40
    x = lambda v: left + width * (math.log10(max(v, bottom)) - math.log10(bottom)) / (
        math.log10(top) - math.log10(bottom))
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 120}" '
           f'height="{height}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="20" font-size="14" font-weight="bold">Requests per second '
           f'(log scale): kontak vs PocketBase</text>',
           f'<rect x="{left}" y="30" width="12" height="12" fill="#2b6cb0"/>'
           f'<text x="{left + 16}" y="40">kontak</text>',
           f'<rect x="{left + 80}" y="30" width="12" height="12" fill="#dd6b20"/>'
           f'<text x="{left + 96}" y="40">PocketBase</text>']
    decade = bottom
    while decade <= top:
        gx = x(decade)
        svg.append(f'<line x1="{gx:.1f}" y1="55" x2="{gx:.1f}" y2="{height - 30}" stroke="#ddd"/>')
        svg.append(f'<text x="{gx:.1f}" y="{height - 15}" text-anchor="middle">{decade:,.0f}</text>' if decade >= 1 else
                   f'<text x="{gx:.1f}" y="{height - 15}" text-anchor="middle">{decade:g}</text>')
        decade *= 10
    y = 60
    for key, label in rows:
        svg.append(f'<text x="{left - 8}" y="{y + bar + 4}" text-anchor="end">{label}</text>')
        for system, color in (("kontak", "#2b6cb0"), ("pocketbase", "#dd6b20")):
            r = results.get((system, key))
            if r:
                w = x(r["rps"]) - left
                svg.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" fill="{color}"/>')
                svg.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 2}">{fmt_rps(r)}</text>')
            y += bar
        y += gap
    svg.append("</svg>")
    open(path, "w").write("\n".join(svg) + "\n")


def main():
    results_path, meta_path, md_path, chart_path = sys.argv[1:5]
    results, meta = load(results_path, meta_path)
    write_chart(results, chart_path)
    write_markdown(results, meta, md_path, chart_path.rsplit("/", 1)[-1],
                   os.path.dirname(os.path.abspath(results_path)))


if __name__ == "__main__":
    main()
