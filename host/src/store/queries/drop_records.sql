-- Deletes the records that the current attempts of :jobs streamed, after
-- reap.sql or release.sql put them back (which keeps a job's attempt
-- number): those attempts never ended, so nothing shows their records, and
-- the jobs run again as new attempts.
DELETE FROM record
WHERE job_id IN_LIST(:jobs)
  AND attempt = (SELECT j.attempt FROM job j WHERE j.id = record.job_id)
