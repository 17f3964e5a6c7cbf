-- Standings rows are read and written for every scope of every entry the consumer
-- applies; decoding and encoding Postgres arrays was the largest cost of the batch.
-- They become fixed-size big-endian packed integers (see repository/standings.py):
--   buckets: 3 x int32 (month, week, day), -1 where none yet
--   vals, reached: 12 x int64, [period][metric] as before
-- Converted in place with the encodings Postgres itself uses (int4send / int8send).
CREATE FUNCTION pg_temp.pack4(a int[]) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(int4send(coalesce(x, -1)), ''::bytea ORDER BY o)
    FROM unnest(a) WITH ORDINALITY AS u(x, o) $$;
CREATE FUNCTION pg_temp.pack8(a bigint[]) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(int8send(x), ''::bytea ORDER BY o)
    FROM unnest(a) WITH ORDINALITY AS u(x, o) $$;
ALTER TABLE standings
    ALTER COLUMN buckets TYPE bytea USING pg_temp.pack4(buckets),
    ALTER COLUMN vals TYPE bytea USING pg_temp.pack8(vals),
    ALTER COLUMN reached TYPE bytea USING pg_temp.pack8(reached);
