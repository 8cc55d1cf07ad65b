-- Jobs per experiment and status.
SELECT experiment_id, status, count(*) AS n FROM job GROUP BY experiment_id, status
