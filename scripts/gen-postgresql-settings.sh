#!/usr/bin/env bash
# Regenerates src/core/config/postgresql-15-settings.json from a real PostgreSQL 15 server's
# pg_settings, with the settings of the extensions tusk preloads or ships registered. Run as root
# after `./tusk install`.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=/usr/lib/postgresql/15/bin
work=$(mktemp -d)
trap 'runuser -u postgres -- "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
chown postgres "$work"
runuser -u postgres -- "$bin/initdb" -D "$work/data" -A peer >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$work/data" -l "$work/log" -w \
  -o "-p 55999 -k $work -c listen_addresses='' -c shared_preload_libraries=pg_stat_statements,pg_cron" start >/dev/null
runuser -u postgres -- "$bin/psql" -h "$work" -p 55999 -d postgres -Atq <<'SQL' \
  | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin), indent=0))' > src/core/config/postgresql-15-settings.json
LOAD 'vector';
LOAD 'pg_partman_bgw';
SELECT json_agg(json_build_object('name', name, 'type', lower(vartype), 'unit', unit, 'min', min_val,
  'max', max_val, 'values', enumvals, 'context', context, 'about', short_desc) ORDER BY name)
FROM pg_settings WHERE context <> 'internal';
SQL
echo "wrote src/core/config/postgresql-15-settings.json"
