#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and benchmarks.
#
#   eval "$(scripts/postgres.sh start)"   # installs PostgreSQL from Debian if missing, starts a
#                                         # server on a free loopback port, exports
#                                         # SLUICE_TEST_POSTGRES (its URL) and SLUICE_TEST_POSTGRES_DIR
#   scripts/postgres.sh stop "$SLUICE_TEST_POSTGRES_DIR"
#
# The cluster lives in a temp folder owned by a non-root user (`postgres` when run as root),
# trusts loopback connections, and skips fsync: it is for tests, never for data.
set -euo pipefail

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  if [ -z "$(bin_dir)" ]; then
    echo "installing PostgreSQL from Debian..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  BIN="$(bin_dir)"
  # A 0755 parent, so the server's user can reach its own folder.
  DIR="$(mktemp -d /tmp/sluice-pg.XXXXXX)"
  chmod 0755 "$DIR"
  mkdir "$DIR/data"
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$DIR"; fi
  PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  as_owner "$BIN/initdb" -D "$DIR/data" -U sluice --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=off \
        -c synchronous_commit=off -c full_page_writes=off -c max_connections=500 -c shared_buffers=256MB" \
    start >&2
  echo "export SLUICE_TEST_POSTGRES='postgres://sluice@127.0.0.1:$PORT/postgres?sslmode=disable'"
  echo "export SLUICE_TEST_POSTGRES_DIR='$DIR'"
  ;;
stop)
  DIR="${2:?usage: scripts/postgres.sh stop DIR}"
  as_owner "$(bin_dir)/pg_ctl" -D "$DIR/data" -m immediate stop >&2 || true
  rm -rf "$DIR"
  ;;
*)
  echo "usage: scripts/postgres.sh start | stop DIR" >&2
  exit 64
  ;;
esac
