#!/bin/sh
# Waits for the Temporal server, then creates the namespace of the service
# unless it exists. Runs in the temporalio/admin-tools image. yst
# temporal-setup then registers the search attributes in it.
set -eu

namespace="${TEMPORAL_NAMESPACE:-default}"
host="${TEMPORAL_HOST:-temporal}"
port="${TEMPORAL_PORT:-7233}"
# The compose scripts of temporalio/samples-server resolve the host to an
# IPv4 address before they call the CLI. This script does the same.
ip=$(getent ahostsv4 "$host" | awk 'NR == 1 {print $1}')
address="${ip:-$host}:$port"

attempt=1
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
  if [ "$attempt" -ge 60 ]; then
    echo "Temporal at $address is still not healthy after $attempt attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

if temporal operator namespace describe --namespace "$namespace" --address "$address" >/dev/null 2>&1; then
  echo "namespace $namespace exists"
else
  # 30 days of closed-flow history, so support staff can still open a
  # disputed flow weeks later.
  temporal operator namespace create --namespace "$namespace" --retention 30d --address "$address"
fi

# A new namespace reaches the frontend's cache after a few seconds; wait
# until the operator API serves it, so that yst temporal-setup finds it.
attempt=1
until temporal operator search-attribute list --namespace "$namespace" --address "$address" >/dev/null 2>&1; do
  if [ "$attempt" -ge 30 ]; then
    echo "namespace $namespace is still not served after $attempt attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done
echo "namespace $namespace ready"
