#!/bin/sh
# Starts NATS (compose.yaml's `nats`) with deploy/nats/nats.conf, which reads each Granary
# user's password from an environment variable: they are exported here from the
# granary-secrets volume, so they live only in this process's environment.
set -eu

SECRETS=${GRANARY_SECRETS_DIR:-/run/granary-secrets}
for service in registry serving ingestion materializer gateway; do
  upper=$(echo "$service" | tr '[:lower:]' '[:upper:]')
  # Quoted: nats-server reads the variable as a config value, and a password such as 12e4...
  # would otherwise be a number (and the server would not start).
  export "GRANARY_NATS_${upper}_PASSWORD=\"$(cat "$SECRETS/nats-$service")\""
done
# nats.conf holds the users only: JetStream (-js, stored in the nats-data volume at /data) and
# the monitoring port the health check asks (-m) are given here, as nats.conf expects.
# Extra arguments go to nats-server (-t: check the config and exit, as tests/deploy does).
exec nats-server -c "${GRANARY_NATS_CONF:-/etc/granary/nats/nats.conf}" -js -sd /data -m 8222 "$@"
