#!/usr/bin/env bash
# Load test (`make bench`): gunicorn on a throwaway PostgreSQL, Locust headless, then the
# invariants in SQL. Exits non-zero on any failed request, server traceback or broken rule.
#
#   scripts/loadtest/run.sh                   # 10,000 incidents, 100,000 alerts, 60 s
#   LOAD_DURATION=30 LOAD_USERS=12 scripts/loadtest/run.sh
#
# Environment (defaults): LOAD_INCIDENTS (10000) and LOAD_ALERTS (100000) seeded;
# LOAD_DURATION seconds of load once everyone has signed in (60); LOAD_USERS in all (24),
# of them LOAD_RESPONDERS (6) and LOAD_INGESTERS (1), the rest analysts; LOAD_WORKERS
# gunicorn workers (4); LOAD_BATCH rows a request (100) out of LOAD_INGEST_ROWS generated
# (10000). Everything listens on 127.0.0.1 only; the cluster, the server and their files
# are removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${LOAD_IN_CLUSTER:-}" != 1 ]; then
  exec scripts/with-postgres.sh env LOAD_IN_CLUSTER=1 bash "$0" "$@"
fi

PY=.venv/bin/python
incidents=${LOAD_INCIDENTS:-10000}
alerts=${LOAD_ALERTS:-100000}
duration=${LOAD_DURATION:-60}
users=${LOAD_USERS:-24}
workers=${LOAD_WORKERS:-4}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d /tmp/triage-load.XXXXXX)
server=""
stop() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap stop EXIT INT TERM

# Production settings, but plain http on the loopback with no proxy in front.
export DJANGO_DEBUG=0 DJANGO_ALLOWED_HOSTS=127.0.0.1 TRIAGE_PROXY_COUNT=0
export DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 DJANGO_SECURE_HSTS_SECONDS=0
export DJANGO_SECURE_PROXY_SSL_HEADER=
DJANGO_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')
LOAD_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
export DJANGO_SECRET_KEY LOAD_PASSWORD

echo "== Seeding $incidents incidents, $alerts alerts"
$PY manage.py migrate --noinput -v0
$PY manage.py seed_demo --incidents "$incidents" --alerts "$alerts" --password "$LOAD_PASSWORD" \
  >"$work/seed.log" 2>&1 || { cat "$work/seed.log"; exit 1; }
grep '^Seeded' "$work/seed.log"
# Without brotli, as requirements.txt deploys it: locust brings brotli into .venv, and
# whitenoise compressing every file with it would take minutes.
DJANGO_SETTINGS_MODULE=triage.settings $PY -c 'import sys; sys.modules["brotli"] = None
from django.core.management import execute_from_command_line as run
run(["manage.py", "collectstatic", "--noinput", "-v0"])'
LOAD_TOKEN=$($PY manage.py create_api_token lead --workspace demo --scope ingest --name load-test 2>/dev/null)
export LOAD_TOKEN LOAD_ALERTS_FILE="$work/alerts.jsonl"
$PY manage.py shell -v0 -c "from incidents.ingest.samples import write_sample; \
write_sample('$LOAD_ALERTS_FILE', count=${LOAD_INGEST_ROWS:-10000}, seed=2)"

echo "== gunicorn, $workers workers, on 127.0.0.1:$port"
# Django logs server errors (with their tracebacks) to stderr: kept to be read afterwards.
.venv/bin/gunicorn triage.wsgi --bind "127.0.0.1:$port" --workers "$workers" \
  2>"$work/gunicorn.log" &
server=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/accounts/login/" && break
  sleep 0.2
done

echo "== Locust: $users users, ${duration}s of load once they have signed in"
status=0
# The load stops itself LOAD_DURATION seconds after the sign-ins; --run-time is a backstop.
LOAD_DURATION=$duration .venv/bin/locust -f scripts/loadtest/locustfile.py --headless \
  --only-summary -H "http://127.0.0.1:$port" -u "$users" -r "$users" \
  -t "$((duration + 120))s" --stop-timeout 10 --loglevel WARNING || status=$?

logged=$(grep -v '^\[.*\] \[INFO\]' "$work/gunicorn.log" || true)
if [ -n "$logged" ]; then
  echo "== The server logged:"
  echo "$logged" | head -n 300
fi
tracebacks=$(grep -c '^Traceback' "$work/gunicorn.log" || true)
if [ "$tracebacks" != 0 ]; then
  echo "== $tracebacks server error(s), tracebacks above."
  status=1
fi

echo "== Invariants"
$PY scripts/loadtest/invariants.py || status=1

if [ "$status" = 0 ]; then
  echo "== Load test passed: no errors, every invariant holds."
else
  echo "== Load test FAILED (failed requests, server errors or broken invariants above)."
fi
exit "$status"
