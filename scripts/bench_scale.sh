#!/usr/bin/env bash
# The scale curve: bench_queues.py at 10k, 100k and 1M alerts (a tenth as many incidents),
# each size in its own throwaway PostgreSQL, then one table of the medians and their growth.
#
#   scripts/bench_scale.sh
#   SIZES="10000 100000" RUNS=5 scripts/bench_scale.sh
#
# SIZES: the alert counts (default "10000 100000 1000000"); RUNS: timed rounds per size
# (default 10). Each size's results stay in a temporary directory, named at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=${SIZES:-"10000 100000 1000000"}
runs=${RUNS:-10}
out=$(mktemp -d /tmp/bench-scale.XXXXXX)
files=()
status=0
for alerts in $sizes; do
  incidents=$((alerts / 10))
  echo "== $alerts alerts, $incidents incidents" >&2
  # A page that is not 200 still leaves the other sizes and the table to report.
  scripts/with-postgres.sh bash -c '
    .venv/bin/python manage.py migrate -v0 &&
    .venv/bin/python manage.py seed_demo --incidents "$1" --alerts "$2" \
      --password demo-pass-123 >/dev/null &&
    .venv/bin/python scripts/bench_queues.py --runs "$3" --json "$4"' \
    _ "$incidents" "$alerts" "$runs" "$out/$alerts.json" || status=1
  [ -f "$out/$alerts.json" ] && files+=("$out/$alerts.json")
done

echo >&2
if [ ${#files[@]} -gt 0 ]; then
  .venv/bin/python scripts/bench_queues.py --scale "${files[@]}"
fi
echo "Results: $out" >&2
exit $status
