-- One artifact of an attempt, number :seq of its artifacts.
INSERT INTO artifact (job_id, attempt, seq, name, digest, size)
VALUES (:job, :attempt, :seq, :name, :digest, :size)
