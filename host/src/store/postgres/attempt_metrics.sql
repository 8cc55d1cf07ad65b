-- The context and metrics of the records of one attempt that carry
-- metrics, in order, as stored: all a metric curve reads.
SELECT context, metrics
FROM record
WHERE job_id = $1 AND attempt = $2 AND metrics <> '{}'
ORDER BY seq
