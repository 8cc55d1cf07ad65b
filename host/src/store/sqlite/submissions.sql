SELECT experiment_id, scheduler, scheduler_job, submitted_at, command, workers, slots
FROM submission
WHERE experiment_id IN (SELECT value FROM json_each(:experiments))
ORDER BY id
