# Sourced by scripts/test.sh and bench/run.sh: a throwaway PostgreSQL cluster of the
# project's own (no system service), in a folder under target/, on a free loopback
# port. `pg_start DIR` starts it and sets PG_URL and PG_PORT (PG_OPTIONS replaces the
# test-only "no fsync" server options); `pg_stop` stops it (the callers
# trap EXIT, so it stops on failure too).
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DIR=""

pg_as_owner() {
  # PostgreSQL refuses to run as root: as root, run it as the `postgres` user that
  # Debian's package creates.
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

pg_start() {
  PG_DIR=$(realpath -m "$1")
  rm -rf "$PG_DIR"
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$PG_DIR"
    # A checkout under a private folder (mktemp -d is mode 700) is out of the
    # postgres user's reach: keep the cluster in /tmp then, linked from $1.
    if ! runuser -u postgres -- test -w "$PG_DIR"; then
      local outside
      outside=$(mktemp -d /tmp/latchkey-pg.XXXXXX)
      chown postgres: "$outside"
      rm -rf "$PG_DIR" && ln -s "$outside" "$PG_DIR"
      PG_DIR=$outside
    fi
  fi
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U latchkey --auth=trust -E UTF8 --no-locale >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log"; return 1; }
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=300 ${PG_OPTIONS:--c fsync=off -c full_page_writes=off}" >/dev/null \
    || { cat "$PG_DIR/server.log"; return 1; }
  PG_URL="postgres://latchkey@127.0.0.1:$PG_PORT/postgres"
  export PG_URL
}

pg_stop() {
  [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ] || return 0
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  # A cluster kept in /tmp (see pg_start) goes with it; one under target/ stays for
  # its logs until the next start.
  case "$PG_DIR" in /tmp/latchkey-pg.*) rm -rf "$PG_DIR" ;; esac
}

# A new empty database on the running cluster; prints its URL.
pg_new_database() {
  local name=$1
  pg_as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U latchkey -d postgres -q \
    -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
  echo "${PG_URL%/postgres}/$name"
}
