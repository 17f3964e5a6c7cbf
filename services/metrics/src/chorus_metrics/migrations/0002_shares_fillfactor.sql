-- Ingestion updates share totals many times per second; free space in each page
-- lets Postgres do those updates in place (HOT, no index writes) whenever no
-- indexed column changes, which is every update but the one that marks a share dirty.
ALTER TABLE shares SET (fillfactor = 80);
