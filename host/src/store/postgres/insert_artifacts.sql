-- All artifacts of an attempt in one statement.
INSERT INTO artifact (job_id, attempt, seq, name, digest, size)
SELECT $1, $2, * FROM unnest($3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::BIGINT[])
