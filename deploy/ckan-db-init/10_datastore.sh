#!/bin/bash
# First start of the CKAN database: the DataStore database and its read-only role.
# CKAN's `ckan datastore set-permissions` sets the table privileges once CKAN runs.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<-SQL
    CREATE ROLE datastore_ro NOSUPERUSER NOCREATEDB NOCREATEROLE LOGIN PASSWORD '${DATASTORE_READONLY_PASSWORD}';
    CREATE DATABASE datastore OWNER ${POSTGRES_USER} ENCODING 'utf-8';
    GRANT CONNECT ON DATABASE datastore TO datastore_ro;
SQL
