-- The run-cache, step 1: a FINISHED attempt for every unassigned job of
-- :experiments whose key matches a finished job, pointing at the attempt
-- that produced that job's result (and sharing its set of record keys:
-- same key, same labels). The oldest finished job with the key is the
-- source. On PostgreSQL the jobs stay locked to the commit, and jobs a
-- claim holds are skipped.
INSERT INTO attempt (job_id, attempt, worker, started_at, finished_at, duration_ms,
                     status, reason, result_digest, source_job, source_attempt, key_set)
SELECT j.id, j.attempt + 1, :worker, :now, :now, 0, 'FINISHED', NULL, a.result_digest,
       coalesce(a.source_job, a.job_id), coalesce(a.source_attempt, a.attempt), a.key_set
FROM job j
JOIN job s ON s.id = (SELECT min(s2.id) FROM job s2
                      WHERE s2.job_key = j.job_key AND s2.status = 'FINISHED')
JOIN attempt a ON a.job_id = s.id AND a.attempt = s.attempt
WHERE j.status = 'UNASSIGNED'
  AND j.job_key IS NOT NULL
  AND a.result_digest IS NOT NULL
  AND j.experiment_id IN_LIST(:experiments)
SKIP_LOCKED(j)
