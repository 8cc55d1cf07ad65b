-- All records of an attempt in one statement, whatever their number.
INSERT INTO record (job_id, attempt, seq, event, context, metrics, artifacts)
SELECT $1, $2, * FROM unnest($3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[])
