-- The cluster submissions of :experiments, in order.
SELECT experiment_id, scheduler, scheduler_job, submitted_at, command, workers, slots
FROM submission
WHERE experiment_id IN_LIST(:experiments)
ORDER BY id
