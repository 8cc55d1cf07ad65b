-- The curve sketch of metric :name in attempt :attempt of job :job.
SELECT x, total, points, sketch FROM curve
WHERE job_id = :job AND attempt = :attempt AND name = :name
