-- The context and metrics of the records with metrics of attempt :attempt of
-- job :job, in order.
SELECT context, metrics
FROM record
WHERE job_id = :job AND attempt = :attempt AND metrics <> '{}'
ORDER BY seq
