# Sourced by bench/ab.sh and bench/instructions.sh, with their arguments: two kontak
# builds, each serving its own copy of one database, answering one key, stopped by
# their pids on exit.
#
# Sourcing reads OLD_BINARY NEW_BINARY DATABASE WORKSPACE [REQUEST] into $OLD, $NEW,
# $DATABASE, $WORKSPACE and $REQUEST (default: the first page), and $BINARY[old|new];
# with fewer, it prints the caller's lines $USAGE_LINES and exits.
#
# two_builds_prepare SCOPES
#   makes $WORK (removed on exit), copies DATABASE to $WORK/old.db with a new key
#   holding SCOPES (comma-separated), copies that to $WORK/new.db, and sets $KEY.
# start_build BUILD PORT [WRAPPER...]
#   starts the build's binary on 127.0.0.1:PORT over $WORK/BUILD.db, with an empty
#   config, the rate limit off and warn-level logs (or $LOG_LEVEL: info logs each
#   request, as bench/run.sh's server does), under WRAPPER if given
#   (valgrind); waits for /healthz and sets $STARTED_PID.

if [ $# -lt 4 ]; then
    sed -n "${USAGE_LINES}p" "$0" >&2
    exit 2
fi
OLD=$(realpath "$1")
NEW=$(realpath "$2")
DATABASE=$3
WORKSPACE=$4
REQUEST=${5:-/v1/contacts?page=1&per_page=20}
declare -A BINARY=([old]=$OLD [new]=$NEW)

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # A server under valgrind takes seconds to stop: wait up to 30 s for each.
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
: > "$WORK/empty.toml"

# Both builds start from the same file and answer the same key. The database itself
# is only read (nothing may write to it meanwhile), and never opened by either build,
# which could migrate it.
two_builds_prepare() {
    cp "$DATABASE" "$WORK/old.db"
    if [ -f "$DATABASE-wal" ]; then cp "$DATABASE-wal" "$WORK/old.db-wal"; fi
    KEY=$("$OLD" --config "$WORK/empty.toml" --db "$WORK/old.db" key create \
          --workspace "$WORKSPACE" --scopes "$1" 2>&1 \
          | grep -o 'chatera_sk_[0-9a-f_]*')
    cp "$WORK/old.db" "$WORK/new.db"
    if [ -f "$WORK/old.db-wal" ]; then cp "$WORK/old.db-wal" "$WORK/new.db-wal"; fi
}

start_build() {
    local build=$1 port=$2
    shift 2
    read -r STARTED_PID _ < <(python3 bench/start_server.py \
        "http://127.0.0.1:$port/healthz" "$WORK/$build.log" -- \
        env KONTAK_CONFIG="$WORK/empty.toml" KONTAK_LOG="${LOG_LEVEL:-warn}" KONTAK_RATE_LIMIT_PER_MINUTE=0 \
        "$@" "${BINARY[$build]}" --db "$WORK/$build.db" serve --bind "127.0.0.1:$port")
    PIDS+=("$STARTED_PID")
}
