#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the database tests and prints the URL they take
# (MOEBENCH_TEST_POSTGRES) and, after a tab, the command that stops it; prints nothing when no
# server can be had here (the tests then skip and say why). Installs Debian's postgresql where
# the binaries are missing.
set -uo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] && command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get install -y -qq postgresql >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq postgresql >/dev/null 2>&1; }
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL binaries" >&2; exit 0; }
dir=$(mktemp -d /tmp/moebench-pg.XXXXXX)
port=${MOEBENCH_PG_PORT:-54329}
as=()
if [ "$(id -u)" -eq 0 ]; then # the server refuses to run as root
  chown postgres "$dir"
  runuser=$(command -v runuser || echo /usr/sbin/runuser) # /usr/sbin is not on every PATH
  as=("$runuser" -u postgres --)
fi
"${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U moebench >/dev/null 2>&1 ||
  { echo "postgres.sh: initdb failed" >&2; exit 0; }
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 ||
  { echo "postgres.sh: the server did not start (see $dir/log)" >&2; exit 0; }
printf 'postgres://moebench@127.0.0.1:%s/postgres\t%s\n' "$port" \
  "${as[*]} $bin/pg_ctl -D $dir/data -m fast stop"
