-- The run-cache, step 2: the jobs that got a cached attempt are FINISHED.
UPDATE job
SET status = 'FINISHED',
    attempt = attempt + 1,
    worker = :worker,
    started_at = :now,
    finished_at = :now,
    duration_ms = 0,
    reason = NULL
WHERE status = 'UNASSIGNED'
  AND experiment_id IN_LIST(:experiments)
  AND EXISTS (SELECT 1 FROM attempt a WHERE a.job_id = job.id AND a.attempt = job.attempt + 1)
