#!/bin/sh
# Entrypoint of the PostgreSQL image: on the first start it creates the
# cluster (the official image's variables: POSTGRES_USER, POSTGRES_PASSWORD,
# POSTGRES_DB, PGDATA), then runs the server in the foreground, listening
# on every address of the container. With a password, connections over TCP
# need it (scram-sha-256); without one they are trusted.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA TZ=UTC

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	auth=trust
	if [ -n "${POSTGRES_PASSWORD:-}" ]; then
		auth=scram-sha-256
	fi
	# The password goes through a pipe, never a file (the image has no rm).
	printf '%s\n' "${POSTGRES_PASSWORD:-}" | initdb -D "$PGDATA" -U "$POSTGRES_USER" \
		--encoding=UTF8 --locale=C --auth-local=trust --auth-host="$auth" --pwfile=/dev/stdin
	echo "host all all all $auth" >>"$PGDATA/pg_hba.conf"
	if [ "$POSTGRES_DB" != postgres ]; then
		# Single-user mode: no server listens before the database exists.
		echo "CREATE DATABASE \"$POSTGRES_DB\";" | postgres --single -j -D "$PGDATA" postgres >/dev/null
	fi
	echo "entrypoint: cluster created in $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB, host auth $auth)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
