SELECT experiment_id, scheduler, scheduler_job, submitted_at, command, workers, slots
FROM submission
WHERE experiment_id = ANY($1)
ORDER BY id
