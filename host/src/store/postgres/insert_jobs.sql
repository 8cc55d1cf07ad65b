-- A batch of an experiment's jobs, as arrays ($2 positions, $3 labels,
-- $4 parameters, $5 keys): one round trip per batch.
INSERT INTO job (experiment_id, position, labels, parameter, job_key)
SELECT $1, * FROM unnest($2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::TEXT[])
