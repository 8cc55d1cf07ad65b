-- The jobs at positions $2 .. $3 - 1 of $1 (one rung of a halving sweep),
-- with their status and the metrics of the last record that has the metric
-- $4 (NULL when none has): from the attempt that ended, or, for a job from
-- the run-cache, the attempt it reuses. The metrics come back as stored
-- text, so both stores give the same numbers.
SELECT j.position, j.labels, j.status,
       (SELECT r.metrics
        FROM record r
        WHERE r.job_id = coalesce(a.source_job, a.job_id)
          AND r.attempt = coalesce(a.source_attempt, a.attempt)
          AND r.metrics::jsonb ? $4
        ORDER BY r.seq DESC
        LIMIT 1)
FROM job j
LEFT JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
WHERE j.experiment_id = $1
  AND j.position >= $2 AND j.position < $3
ORDER BY j.position
