-- One experiment's jobs by status: what the live view polls, from the
-- (experiment_id, status, position) index alone.
SELECT status, count(*) FROM job WHERE experiment_id = $1 GROUP BY status
