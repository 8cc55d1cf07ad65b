-- One artifact of an attempt, number :seq of its artifacts; :pack and
-- :pack_offset say where it is when a commit packed it (else NULL).
INSERT INTO artifact (job_id, attempt, seq, name, digest, size, pack, pack_offset)
VALUES (:job, :attempt, :seq, :name, :digest, :size, :pack, :pack_offset)
