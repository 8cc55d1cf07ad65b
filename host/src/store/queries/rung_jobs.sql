-- The jobs of a rung (positions :first..:end of :experiment), each with the
-- metrics of its last record that has :metric (from the attempt it reuses, for
-- a job from the run-cache).
SELECT j.position, j.labels, j.status,
       (SELECT r.metrics
        FROM record r
        WHERE r.job_id = coalesce(a.source_job, a.job_id)
          AND r.attempt = coalesce(a.source_attempt, a.attempt)
          AND HAS_KEY(r.metrics, :metric)
        ORDER BY r.seq DESC
        LIMIT 1) AS metrics
FROM job j
LEFT JOIN attempt a ON a.job_id = j.id AND a.attempt = j.attempt
WHERE j.experiment_id = :experiment
  AND j.position >= :first AND j.position < :end
ORDER BY j.position
