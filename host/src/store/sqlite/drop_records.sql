-- Deletes the records an attempt streamed before it was put back: it
-- never ended, so nothing shows them, and its job runs again as a new
-- attempt.
DELETE FROM record WHERE job_id = ?1 AND attempt = ?2
