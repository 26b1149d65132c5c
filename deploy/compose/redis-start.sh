#!/bin/sh
# Starts Redis (compose.yaml's `redis`) with the ACL users of deploy/redis/users.acl, each
# given its password from the granary-secrets volume. users.acl has no passwords, so the file
# Redis loads is rendered here, at every start, into the container's own /tmp: it never lands
# in the repository or in a volume.
set -eu

SECRETS=${GRANARY_SECRETS_DIR:-/run/granary-secrets}
SOURCE=${GRANARY_REDIS_ACL:-/etc/granary/redis/users.acl}
ACL=/tmp/users.acl

umask 077
# Only `user` lines: Redis's ACL file format has no comments.
while IFS= read -r line; do
  case $line in
    "user granary-serving "*) echo "$line >$(cat "$SECRETS/redis-serving")" ;;
    "user granary-writer "*) echo "$line >$(cat "$SECRETS/redis-writer")" ;;
    "user "*) echo "$line" ;;
  esac
done <"$SOURCE" >"$ACL"
if ! grep -q '^user granary-serving ' "$ACL" || ! grep -q '^user granary-writer ' "$ACL"; then
  echo "redis-start: $SOURCE lacks the granary-serving or granary-writer user" >&2
  exit 1
fi
# The image's entrypoint drops to the redis user for redis-server; the file must be its.
chown redis:redis "$ACL" 2>/dev/null || true
exec docker-entrypoint.sh redis-server --aclfile "$ACL" --appendonly yes --dir /data
