-- tusk's metrics history, in its own database (tusk_metrics), owned by the monitoring role. The
-- time-series pattern tusk recommends: range partitions by day, a BRIN index on time (rows arrive
-- in time order, so a few hundred bytes of BRIN summarise a day), retention by dropping whole
-- partitions, and hourly rollups kept for a year. Migration 1: applied once, in a transaction, by
-- MetricsStore.migrate (which creates the schema and its migrations table first).

-- Each series (a name and its labels: database, table, replica, state, …) once; samples refer to it
-- by a 4-byte id, which keeps a sample row to its header, time, id and value.
CREATE TABLE IF NOT EXISTS metrics.series (
  id serial PRIMARY KEY,
  name text NOT NULL,
  labels jsonb NOT NULL DEFAULT '{}',
  UNIQUE (name, labels)
);

-- One row per series per collection: counters as PostgreSQL reports them (rates are computed when
-- read), gauges as measured.
CREATE TABLE IF NOT EXISTS metrics.samples (
  at timestamptz NOT NULL,
  series_id integer NOT NULL,
  value double precision NOT NULL
) PARTITION BY RANGE (at);
CREATE INDEX IF NOT EXISTS samples_at_brin ON metrics.samples USING brin (at);

-- pg_stat_statements as deltas between two collections: "the slowest queries of the last hour" is
-- a sum over a time range. The text of each statement is stored once, in metrics.queries.
CREATE TABLE IF NOT EXISTS metrics.statements (
  at timestamptz NOT NULL,
  queryid bigint NOT NULL,
  dbname text NOT NULL,
  username text NOT NULL,
  calls bigint NOT NULL,
  total_ms double precision NOT NULL,
  max_ms double precision NOT NULL,
  -- Sum of squared deviations over the calls of this interval, so stddev combines across intervals.
  sum_sq_dev double precision NOT NULL,
  mean_ms double precision NOT NULL,
  rows bigint NOT NULL,
  shared_blks_hit bigint NOT NULL,
  shared_blks_read bigint NOT NULL
) PARTITION BY RANGE (at);
CREATE INDEX IF NOT EXISTS statements_at_brin ON metrics.statements USING brin (at);

CREATE TABLE IF NOT EXISTS metrics.queries (
  queryid bigint NOT NULL,
  dbname text NOT NULL,
  username text NOT NULL,
  query text NOT NULL,
  first_seen timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (queryid, dbname, username)
);

-- Hourly rollups of samples: what history older than the raw retention is read from.
CREATE TABLE IF NOT EXISTS metrics.samples_hourly (
  hour timestamptz NOT NULL,
  series_id integer NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  avg double precision NOT NULL,
  last double precision NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (series_id, hour)
);
CREATE INDEX IF NOT EXISTS samples_hourly_hour ON metrics.samples_hourly USING brin (hour);

-- Alerts: one row per episode of a rule for one series (pending → firing → resolved).
CREATE TABLE IF NOT EXISTS metrics.alerts (
  id bigserial PRIMARY KEY,
  rule text NOT NULL,
  labels jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
  value double precision,
  summary text NOT NULL,
  started_at timestamptz NOT NULL,
  fired_at timestamptz,
  resolved_at timestamptz
);
CREATE INDEX IF NOT EXISTS alerts_open ON metrics.alerts (rule, labels) WHERE state <> 'resolved';

CREATE TABLE IF NOT EXISTS metrics.silences (
  id bigserial PRIMARY KEY,
  rule text NOT NULL,
  -- Every label given must match; {} silences the rule for every series.
  labels jsonb NOT NULL DEFAULT '{}',
  until timestamptz NOT NULL,
  comment text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Daily partitions named <table>_pYYYYMMDD, created ahead of time.
CREATE OR REPLACE FUNCTION metrics.ensure_partitions(parent text, first_day date, days integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  d date;
  created integer := 0;
  part text;
BEGIN
  FOR i IN 0 .. days - 1 LOOP
    d := first_day + i;
    part := parent || '_p' || to_char(d, 'YYYYMMDD');
    IF to_regclass('metrics.' || part) IS NULL THEN
      EXECUTE format('CREATE TABLE metrics.%I PARTITION OF metrics.%I FOR VALUES FROM (%L) TO (%L)', part, parent, d::timestamptz, (d + 1)::timestamptz);
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END $$;

-- Retention: whole partitions older than the cutoff day are dropped (no DELETE, no vacuum debt).
CREATE OR REPLACE FUNCTION metrics.drop_partitions_before(parent text, cutoff date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  dropped integer := 0;
BEGIN
  FOR r IN
    SELECT c.relname FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = p.relnamespace
    WHERE n.nspname = 'metrics' AND p.relname = parent AND c.relname ~ ('^' || parent || '_p\d{8}$')
      AND to_date(right(c.relname, 8), 'YYYYMMDD') < cutoff
  LOOP
    EXECUTE format('DROP TABLE metrics.%I', r.relname);
    dropped := dropped + 1;
  END LOOP;
  RETURN dropped;
END $$;
