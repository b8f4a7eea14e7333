#!/usr/bin/env bash
# Times the list shapes run.sh does not: sorts, tag filters and their combinations, on
# a kontak that is already running (for instance on bench/out/kontak.db after run.sh).
#
#   bench/list_shapes.sh BASE_URL KEY_FILE [ROUNDS]
#
# Each shape is asked ROUNDS times (default 5) one after another with curl; the line
# gives the median and the slowest time in milliseconds, and the total the server
# answered. Sequential single requests: this measures how long one page takes, not
# throughput.
set -euo pipefail

base=${1:?base URL, e.g. http://127.0.0.1:8080}
key=$(cat "${2:?file holding a contacts:read key}")
rounds=${3:-5}

shapes=(
    "sort=name" "sort=-name" "sort=name&page=5000" "sort=-updated_at&page=5000"
    "tag=vip" "tag=customer" "tag=vip&page=2000" "tag=vip&sort=name"
    "tag=vip&sort=-updated_at" "tag=vip&tag=lead" "tag=customer&tag=vip"
    "tag=vip&search=hafari" "tag=vip&search=ha" "tag=nosuch"
)

printf '| %-28s | %9s | %9s | %9s |\n' "query (per_page=20)" "median ms" "max ms" "total"
printf '|%s|%s|%s|%s|\n' "------------------------------" "----------:" "----------:" "----------:"
for shape in "${shapes[@]}" "tags"; do
    if [ "$shape" = tags ]; then url="$base/v1/tags"; else url="$base/v1/contacts?per_page=20&$shape"; fi
    times=()
    for _ in $(seq "$rounds"); do
        times+=("$(curl -sS -o /tmp/list_shapes.$$ -w '%{time_total}' -H "Authorization: Bearer $key" "$url")")
    done
    total=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d.get('meta',{}).get('total', len(d.get('data',[]))))" /tmp/list_shapes.$$)
    python3 - "$shape" "$total" "${times[@]}" <<'EOF'
import statistics, sys
shape, total, times = sys.argv[1], sys.argv[2], [float(t) * 1000 for t in sys.argv[3:]]
label = "GET /v1/tags" if shape == "tags" else shape
print(f"| {label:<28} | {statistics.median(times):9.1f} | {max(times):9.1f} | {total:>9} |")
EOF
done
rm -f /tmp/list_shapes.$$
