# Sourced by .ci/run: a private PostgreSQL server for the catalog tests (tests/conftest.py reads
# GEOTAGGER_TEST_POSTGRES). Installs the Debian package when missing, creates a throwaway cluster
# owned by the postgres OS user (the server refuses to run as root) in a temporary folder, listening
# on 127.0.0.1 only, with a role and a database for the tests. Never fails CI: when anything here
# does not work it warns, and the PostgreSQL tests skip saying why.
# shellcheck shell=bash

_pg_port="${GEOTAGGER_CI_PG_PORT:-54329}"

_pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [[ -x "$dir/initdb" ]] && { echo "$dir"; return 0; }
    done
    return 1
}

_pg_as_postgres() {
    if command -v runuser >/dev/null; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$*"; fi
}

_pg_start() {
    local bin data
    if ! bin="$(_pg_bin)"; then
        { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; } || return 1
        bin="$(_pg_bin)" || return 1
    fi
    # The driver: psycopg 3 (the project's `postgres` extra).
    python3 -m pip install -q -e ".[postgres]" || return 1
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres || return 1
    data="$(mktemp -d /tmp/geotagger-ci-pg.XXXXXX)" || return 1
    chown postgres "$data" || return 1
    _pg_as_postgres "$bin/initdb" -D "$data/db" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null ||
        return 1
    _pg_as_postgres "$bin/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $_pg_port -k $data -c fsync=off -c max_connections=200" \
        start >/dev/null || { cat "$data/server.log" >&2; rm -rf "$data"; return 1; }
    # Stopped and removed when .ci/run exits, so a second run on the same machine finds the port free.
    local stop
    stop="$(printf '%q ' "$bin/pg_ctl" -D "$data/db" -m fast stop)"
    if command -v runuser >/dev/null; then stop="runuser -u postgres -- $stop"; else stop="su postgres -s /bin/sh -c '$stop'"; fi
    # shellcheck disable=SC2064  # expanded now, on purpose: the paths are this run's
    trap "$stop >/dev/null 2>&1; rm -rf $(printf '%q' "$data")" EXIT
    # A linguistic (ICU en-US) collation like most real servers have, so tests see what "C" hides
    # (path ranges); plain UTF-8 when the server has no ICU.
    local psql=("$bin/psql" -q -h 127.0.0.1 -p "$_pg_port" -U postgres -d postgres -v ON_ERROR_STOP=1)
    "${psql[@]}" -c "CREATE ROLE geotagger LOGIN CREATEDB" || return 1
    "${psql[@]}" -c "CREATE DATABASE geotagger_test OWNER geotagger TEMPLATE template0
        LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" 2>/dev/null ||
        "${psql[@]}" -c "CREATE DATABASE geotagger_test OWNER geotagger" || return 1
    export GEOTAGGER_TEST_POSTGRES="postgresql+psycopg://geotagger@127.0.0.1:$_pg_port/geotagger_test"
}

if [[ -n "${GEOTAGGER_TEST_POSTGRES:-}" ]]; then
    echo "PostgreSQL tests use the given server ($GEOTAGGER_TEST_POSTGRES)" >&2
    python3 -m pip install -q -e ".[postgres]" || echo "warning: could not install the postgres extra" >&2
elif _pg_start; then
    echo "PostgreSQL test server on 127.0.0.1:$_pg_port" >&2
else
    echo "warning: could not start a PostgreSQL server; the PostgreSQL catalog tests will skip" >&2
fi
unset -f _pg_bin _pg_as_postgres _pg_start
unset _pg_port
