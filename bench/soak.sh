#!/usr/bin/env bash
# Soak: SOAK_CLIENTS (64) concurrent clients of SOAK_WORKSPACES (4) workspaces mix list,
# search, get, create, patch and delete against one kontak for SOAK_SECONDS (180);
# fails on any 5xx, any cross-workspace leak, or memory that keeps growing.
# SOAK_PROFILE=release (default) or debug. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${SOAK_SECONDS:-180}
clients=${SOAK_CLIENTS:-64}
workspaces=${SOAK_WORKSPACES:-4}
profile=${SOAK_PROFILE:-release}
flag=$([ "$profile" = release ] && echo --release || true)

cargo build $flag --bin kontak --example soak
bin=target/$profile/kontak
work=$(mktemp -d)
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

keys=()
for n in $(seq 1 "$workspaces"); do
    key=$("$bin" --db "$work/soak.db" key create --workspace "ws$n" --scopes contacts:read,contacts:write 2>/dev/null)
    keys+=("ws$n=$key")
done

# The per-key limit would turn a soak into a rate-limit test; lift it.
KONTAK_RATE_LIMIT_PER_MINUTE=0 "$bin" --db "$work/soak.db" --log-format json serve --bind 127.0.0.1:0 \
    >"$work/stdout" 2>"$work/stderr" &
server=$!
port=""
for _ in $(seq 1 100); do
    port=$(grep -o '"address":"http://127.0.0.1:[0-9]*"' "$work/stderr" 2>/dev/null | grep -o '[0-9]*"$' | tr -d '"' || true)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { echo "kontak did not start"; cat "$work/stderr"; exit 1; }

target/$profile/examples/soak "http://127.0.0.1:$port" "$server" "$seconds" "$clients" "${keys[@]}"
