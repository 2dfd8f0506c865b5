#!/bin/sh
# A local PostgreSQL 15 + PostGIS cluster for trying floodpost on PostgreSQL without a server
# install: socket-only (no TCP), trust auth, in a directory of your choice.
#   scripts/pg_cluster.sh start DIR [PORT]   -> prints the --db URL
#   scripts/pg_cluster.sh stop DIR
# Needs: apt-get install -y postgresql-15 postgresql-15-postgis-3
set -eu
PG_BIN=${FLOODPOST_PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: pg_cluster.sh start|stop DIR [PORT]}
dir=$(realpath -m "${2:?usage: pg_cluster.sh start|stop DIR [PORT]}")
port=${3:-54329}

if [ ! -x "$PG_BIN/initdb" ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
    echo "PostgreSQL 15 / PostGIS 3 missing: apt-get install -y postgresql-15 postgresql-15-postgis-3" >&2
    exit 1
fi

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
    if [ ! -d "$dir/data" ]; then
        mkdir -p "$dir/sock"
        [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
        as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust --encoding=UTF8 --locale=C \
            --no-instructions >/dev/null
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-p $port -k $dir/sock -c listen_addresses=''" start >/dev/null
    fi
    url="postgresql://postgres@/floodpost?host=$dir/sock&port=$port"
    as_pg "$PG_BIN/psql" -h "$dir/sock" -p "$port" -U postgres -qAt -d postgres \
        -c "SELECT 1 FROM pg_database WHERE datname = 'floodpost'" | grep -q 1 ||
        as_pg "$PG_BIN/createdb" -h "$dir/sock" -p "$port" -U postgres floodpost
    echo "$url"
    ;;
stop)
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
*)
    echo "usage: pg_cluster.sh start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
