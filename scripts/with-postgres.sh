#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster, then stop and remove it.
#
#   scripts/with-postgres.sh CMD [ARGS...]
#
# The command sees DATABASE_URL pointing at the cluster (127.0.0.1 only). PostgreSQL
# refuses to run as root, so as root the server runs as the system user triage-pg.
# PG_DURABLE=1 keeps fsync on (for benchmarks); tests run faster without it.
set -euo pipefail

initdb_path=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$initdb_path" ]; then
  echo "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql" >&2
  exit 1
fi
pgbin=$(dirname "$(readlink -f "$initdb_path")")

as_server_user=()
if [ "$(id -u)" = 0 ]; then
  id triage-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin triage-pg
  as_server_user=(runuser -u triage-pg --)
fi

dir=$(mktemp -d /tmp/triage-pg.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown triage-pg "$dir"
port=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}

cleanup() {
  "${as_server_user[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"${as_server_user[@]}" "$pgbin/initdb" -D "$dir/data" -U triage --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
settings=(-c listen_addresses=127.0.0.1 -c "port=$port" -c "unix_socket_directories=$dir"
  -c max_connections=100 -c shared_buffers=256MB -c work_mem=16MB -c maintenance_work_mem=256MB
  -c max_wal_size=4GB -c checkpoint_timeout=30min)
if [ "${PG_DURABLE:-0}" != 1 ]; then
  settings+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
fi
"${as_server_user[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "${settings[*]}" start >/dev/null
"$pgbin/createdb" -h 127.0.0.1 -p "$port" -U triage triage

echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (throwaway)" >&2
DATABASE_URL="postgres://triage@127.0.0.1:$port/triage" "$@"
