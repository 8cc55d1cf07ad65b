-- One row per experiment of a submission.
INSERT INTO submission (experiment_id, scheduler, scheduler_job, submitted_at, command, workers, slots)
SELECT e, $2, $3, $4, $5, $6, $7 FROM unnest($1::BIGINT[]) AS e
