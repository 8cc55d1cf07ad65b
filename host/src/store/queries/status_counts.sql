-- Jobs of :experiment per status.
SELECT status, count(*) AS n FROM job WHERE experiment_id = :experiment GROUP BY status
