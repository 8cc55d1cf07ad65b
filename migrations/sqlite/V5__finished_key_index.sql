-- The run-cache looks up finished jobs by key, so only finished jobs need
-- to be in the key index. Indexing every job made adding a million jobs
-- pay a random B-tree insert per job (5 of 13 s); a job now enters the
-- index when it finishes, one insert in a commit that writes far more.
DROP INDEX job_by_key;
CREATE INDEX job_by_finished_key ON job (job_key) WHERE status = 'FINISHED';
