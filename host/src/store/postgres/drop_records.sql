-- Deletes the records attempts streamed before they were put back (job ids
-- $1, attempts $2): they never ended, so nothing shows them, and their jobs
-- run again as new attempts.
DELETE FROM record r
USING unnest($1::BIGINT[], $2::BIGINT[]) AS gone (job_id, attempt)
WHERE r.job_id = gone.job_id AND r.attempt = gone.attempt
