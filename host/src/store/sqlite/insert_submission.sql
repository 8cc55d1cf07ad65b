-- One row per experiment of a submission.
INSERT INTO submission (experiment_id, scheduler, scheduler_job, submitted_at, command, workers, slots)
SELECT value, :scheduler, :job, :at, :command, :workers, :slots FROM json_each(:experiments)
