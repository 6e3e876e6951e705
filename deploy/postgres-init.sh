#!/bin/sh
# Creates the roles and databases of docker-compose.yml: temporal and
# temporal_visibility for the Temporal server, yst for the service, each owned
# by its own role. The postgres image runs this once, when it initialises an
# empty data volume. Later starts skip it.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_password="$POSTGRES_TEMPORAL_PASSWORD" \
  -v yst_password="$POSTGRES_YST_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN PASSWORD :'temporal_password';
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
CREATE ROLE yst LOGIN PASSWORD :'yst_password';
CREATE DATABASE yst OWNER yst;
SQL
