-- The id of each (name, labels) series, created when new. The insert's snapshot does not see the
-- rows it adds, so new ids come from RETURNING and existing ones from the join.
WITH input AS (
  SELECT DISTINCT name, labels FROM unnest($1::text[], $2::jsonb[]) AS u(name, labels)
), added AS (
  INSERT INTO metrics.series (name, labels) SELECT name, labels FROM input
  ON CONFLICT (name, labels) DO NOTHING
  RETURNING id, name, labels
)
SELECT id, name, labels FROM added
UNION ALL
SELECT s.id, s.name, s.labels FROM metrics.series s JOIN input USING (name, labels)
