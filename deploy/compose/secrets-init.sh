#!/bin/sh
# Creates every secret of the compose stack once, in the granary-secrets volume (compose.yaml's
# one-shot `secrets` service runs it before anything else starts). A secret that exists is
# kept, so `docker compose up` again does not change passwords the backends already hold.
#
# Each secret is 32 random bytes as 64 hex digits: hex, so it needs no quoting in a Redis ACL
# line, a NATS config variable or a psql argument.
#
# Permissions: the files are 0444. The volume is private to this stack and mounted only into
# its containers, but the readers run as different users: Granary as 10001, Redis and
# PostgreSQL as their images' users (999), NATS as root; there is no group they share. So in
# compose every container of the stack can read every secret of it (a weakness of this quick
# start, not of the backends' separation: each service still logs in as its own user). In
# Kubernetes each pod mounts only the keys it needs (deploy/k8s).
set -eu

DIR=${GRANARY_SECRETS_DIR:-/run/granary-secrets}
# The admins' passwords go to a volume of their own, which no Granary service mounts.
ADMIN_DIR=${GRANARY_ADMIN_SECRETS_DIR:-/run/granary-admin-secrets}
NAMES="jwt.secret gateway.secret redis-serving redis-writer pg-registry
pg-offline-reader pg-offline-writer nats-registry nats-serving nats-ingestion
nats-materializer nats-gateway"
ADMIN_NAMES="postgres-admin grafana-admin"

umask 077
# A stack from before the admin volume kept its admin passwords with the others: they move
# (PostgreSQL and Grafana hold these already; new ones would not match).
mkdir -p "$ADMIN_DIR"
for n in $ADMIN_NAMES; do
  if [ -s "$DIR/$n" ] && [ ! -s "$ADMIN_DIR/$n" ]; then mv "$DIR/$n" "$ADMIN_DIR/$n"; fi
  rm -f "$DIR/$n"
done
made=0
total=0
for entry in $(for n in $NAMES; do echo "$DIR/$n"; done; for n in $ADMIN_NAMES; do echo "$ADMIN_DIR/$n"; done); do
  total=$((total + 1))
  mkdir -p "$(dirname "$entry")"
  chmod 0755 "$(dirname "$entry")"
  if [ ! -s "$entry" ]; then
    # Written aside and renamed: a run cut short never leaves a half-written secret that a
    # later run would keep.
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$entry.new"
    mv "$entry.new" "$entry"
    made=$((made + 1))
  fi
  chmod 0444 "$entry"
done
echo "secrets-init: $made secret(s) created in $DIR and $ADMIN_DIR, $total in all"
