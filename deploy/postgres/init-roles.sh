#!/bin/sh
# Creates Granary's database and roles (roles.sql) with passwords read from secret files:
# pg-registry, pg-offline-reader and pg-offline-writer in $GRANARY_SECRETS_DIR
# (/run/granary-secrets by default). Runs as the PostgreSQL image's init script
# (/docker-entrypoint-initdb.d/, where POSTGRES_USER and the local socket are set up) or by
# hand with PG* variables pointing at a superuser's connection. Passwords go to psql as
# variables, never on a command line another user could read.
set -eu

SECRETS=${GRANARY_SECRETS_DIR:-/run/granary-secrets}
DATABASE=${GRANARY_DATABASE:-granary}
HERE=$(cd "$(dirname "$0")" && pwd)
# In the image's init folder roles.sql sits next to this script, or where the image mounts it.
SQL=${GRANARY_ROLES_SQL:-$HERE/roles.sql}
ADMIN=${POSTGRES_USER:-${PGUSER:-postgres}}

# A secret file's content as a quoted psql argument: no trailing newline, and quotes and
# backslashes doubled (psql's rules for a single-quoted meta-command argument).
quoted_secret() {
  printf "'%s'" "$(tr -d '\n' <"$SECRETS/$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"
}

for name in pg-registry pg-offline-reader pg-offline-writer; do
  [ -s "$SECRETS/$name" ] || { echo "init-roles: $SECRETS/$name is missing or empty" >&2; exit 1; }
done

psql -v ON_ERROR_STOP=1 -qtA -U "$ADMIN" -d postgres \
  -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" | grep -qx 1 ||
  psql -v ON_ERROR_STOP=1 -q -U "$ADMIN" -d postgres -c "CREATE DATABASE \"$DATABASE\""

# The passwords reach psql on its standard input as \set lines, not in its arguments.
{
  printf '\\set registry_password %s\n' "$(quoted_secret pg-registry)"
  printf '\\set reader_password %s\n' "$(quoted_secret pg-offline-reader)"
  printf '\\set writer_password %s\n' "$(quoted_secret pg-offline-writer)"
  printf '\\i %s\n' "$SQL"
} | psql -v ON_ERROR_STOP=1 -q -U "$ADMIN" -d "$DATABASE"
echo "init-roles: roles of $DATABASE are up to date"
