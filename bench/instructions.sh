#!/usr/bin/env bash
# Server instructions per request, for two kontak builds: the figure the shared
# machine's load does not move, where req/s from bench/ab.sh drifts by a third within
# minutes. Each build serves its own copy of one database under valgrind's callgrind.
# After WARMUP requests (the key's first argon2 check, cold caches) the counts are
# zeroed, COUNT requests are sent one after another on one connection, and the counts
# are dumped: everything every thread of the server executed for them, divided by
# COUNT. Instructions are not time (a page read from the OS's cache costs a copy the
# count barely sees), so a change that moves them is still to be timed with ab.sh.
#
# Usage: bench/instructions.sh OLD_BINARY NEW_BINARY DATABASE WORKSPACE [REQUEST]
#   REQUEST  a GET path and query (default: the first page)
#   env      COUNT (default 300), WARMUP (default 5),
#            LOG_LEVEL (warn; info logs a line per request, as bench/run.sh's server)
#
# The servers bind to 127.0.0.1 (ports 18183 and 18184), run with an empty config,
# the rate limit off and warn-level logs (or LOG_LEVEL's), and are stopped by their
# pids.
set -euo pipefail
cd "$(dirname "$0")/.."

USAGE_LINES=11,14
. bench/two_builds.sh "$@"
COUNT=${COUNT:-300}
WARMUP=${WARMUP:-5}
for tool in valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install valgrind)" >&2; exit 2; }
done

declare -A PORT=([old]=18183 [new]=18184)
two_builds_prepare contacts:read

# send PORT N: N requests on one keep-alive connection; fails on any answer but 200.
send() {
    python3 - "$1" "$2" "$KEY" "$REQUEST" <<'EOF'
import http.client, sys
port, count, key, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for _ in range(count):
    conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"{path} answered {response.status}")
EOF
}

for build in old new; do
    # valgrind runs the server itself (no wrapper process), so its pid is the server's.
    start_build "$build" "${PORT[$build]}" \
        valgrind --tool=callgrind --callgrind-out-file="$WORK/$build.callgrind"
    pid=$STARTED_PID
    send "${PORT[$build]}" "$WARMUP"
    callgrind_control --zero "$pid" >/dev/null 2>&1
    send "${PORT[$build]}" "$COUNT"
    callgrind_control --dump "$pid" >/dev/null 2>&1
    # The dump is the first numbered file; the one written at exit is not counted.
    for _ in $(seq 100); do [ -s "$WORK/$build.callgrind.1" ] && break; sleep 0.1; done
    total=$(awk '/^summary:/ { print $2 }' "$WORK/$build.callgrind.1")
    echo "$build: $((total / COUNT)) instructions per request ($total over $COUNT)"
done
