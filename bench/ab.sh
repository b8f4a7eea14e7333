#!/usr/bin/env bash
# Two kontak builds side by side: each serves its own copy of one database, and wrk
# runs the same scenario against one, then the other, round after round (the order
# flips every round), so that the shared machine's drift falls on both alike: the
# method behind the side-by-side figures in bench/ANALYSIS.md, as a script.
#
# Usage: bench/ab.sh OLD_BINARY NEW_BINARY DATABASE WORKSPACE [REQUEST]
#   REQUEST  a GET path and query (default: the first page), or "create"
#   env      ROUNDS (default 5; at most 9 for create), CONNS (16), SECS (8),
#            LOG_LEVEL (warn; info logs a line per request, as bench/run.sh's server)
# For creates, DATABASE should be a plain import: bench/run.sh's own create scenarios
# use the same phone digits, so on its database the first rounds' creates are 409s.
#
# Each server first gets 2 s of the same load, not counted (its first requests check
# the key with argon2 and find its caches cold). Prints each run, then each build's
# median req/s and median p99. The servers bind to 127.0.0.1 (ports 18181 and
# 18182), run with an empty config, the rate limit off and warn-level logs (or
# LOG_LEVEL's), and are stopped by their pids.
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE_LINES=7,11
. bench/two_builds.sh "$@"
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-16}
SECS=${SECS:-8}
if [ "$REQUEST" = create ] && [ "$ROUNDS" -gt 9 ]; then
    # Each round's creates (and the warm-up's) keep their phones apart by one digit
    # (scenario.lua's BENCH_TAG): 0 for the warm-up, then one per round.
    echo "at most 9 rounds of creates" >&2
    exit 2
fi
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 2; }

declare -A PORT=([old]=18181 [new]=18182)
two_builds_prepare contacts:read,contacts:write
for build in old new; do start_build "$build" "${PORT[$build]}"; done

if [ "$REQUEST" = create ]; then MODE=create; else MODE=get; fi
# run BUILD TAG SECONDS: one wrk run; prints its JSON line.
run() {
    BENCH_MODE=$MODE BENCH_PATH=$REQUEST BENCH_POST=/v1/contacts BENCH_AUTH="Bearer $KEY" \
    BENCH_TAG=$2 wrk -t2 -c"$CONNS" -d"${3}s" --timeout 30s -s bench/wrk/scenario.lua \
        "http://127.0.0.1:${PORT[$1]}" | grep '^{"requests"'
}
for build in old new; do run "$build" 0 2 >/dev/null; done
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="old new"; else order="new old"; fi
    for build in $order; do
        echo "$round $build $(run "$build" "$round" "$SECS")" | tee -a "$WORK/runs"
    done
done

python3 - "$WORK/runs" <<'EOF'
import json, statistics, sys
rates, p99s = {}, {}
for line in open(sys.argv[1]):
    _, build, run = line.split(" ", 2)
    result = json.loads(run)
    if result["errors"] or result["non2xx"]:
        print(f"note: a {build} run had {result['errors']} errors and {result['non2xx']} non-2xx answers")
    rates.setdefault(build, []).append(result["rps"])
    p99s.setdefault(build, []).append(result["p99_ms"])
for build in ("old", "new"):
    runs = " / ".join(f"{r:,.0f}" for r in rates[build])
    print(f"{build}: median {statistics.median(rates[build]):,.1f} req/s ({runs}); "
          f"median p99 {statistics.median(p99s[build]):.2f} ms")
EOF
