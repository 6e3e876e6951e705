#!/bin/sh
# Creates or upgrades the Temporal server's schema in the databases that
# postgres-init.sh created. Runs in the temporalio/admin-tools image, whose
# version must match the server's. Both steps are safe to repeat: setup-schema
# leaves a database with a newer schema alone, and update-schema applies only
# the versions still missing. The password comes from SQL_PASSWORD.
set -eu

schema=/etc/temporal/schema/postgresql/v12
run() {
  temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u temporal "$@"
}

run --db temporal setup-schema -v 0.0
run --db temporal update-schema -d "$schema/temporal/versioned"
run --db temporal_visibility setup-schema -v 0.0
run --db temporal_visibility update-schema -d "$schema/visibility/versioned"
echo "temporal schema ready"
