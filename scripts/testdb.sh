# Sourced by `make test`: finds a PostgreSQL for the tests and exports
# YST_TEST_DATABASE_URL. In order: the variable itself, a server on
# 127.0.0.1:5432, or a throwaway cluster from local PostgreSQL binaries.

if [ -n "${YST_TEST_DATABASE_URL:-}" ]; then
	echo "testdb: using YST_TEST_DATABASE_URL"
elif pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || (command -v psql >/dev/null && psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1); then
	export YST_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	echo "testdb: using PostgreSQL on 127.0.0.1:5432"
else
	pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
		echo "testdb: no PostgreSQL found. Set YST_TEST_DATABASE_URL, start a server on 127.0.0.1:5432, or install PostgreSQL (apt-get install postgresql)." >&2
		return 1 2>/dev/null || exit 1
	fi
	dir=$(mktemp -d /tmp/yst-pg.XXXXXX)
	chown -R postgres "$dir" 2>/dev/null || true
	run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
	run_pg "$pgbin/initdb -D $dir/data -U postgres -A trust >/dev/null"
	run_pg "$pgbin/pg_ctl -D $dir/data -o '-p 55432 -k $dir -c listen_addresses=127.0.0.1' -l $dir/log -w start >/dev/null"
	run_pg "$pgbin/createdb -h 127.0.0.1 -p 55432 -U postgres test"
	export YST_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:55432/test?sslmode=disable"
	echo "testdb: started a throwaway PostgreSQL cluster in $dir on port 55432"
fi
