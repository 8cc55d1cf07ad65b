-- What an attempt wrote to stdout and stderr.
INSERT INTO job_log (job_id, attempt, log) VALUES (:job, :attempt, :log)
