-- Records of an attempt (seqs $3) in one statement, whatever their number. A
-- row already there is the same row: an append whose commit went through
-- but whose reply was lost, written again by the finish.
INSERT INTO record (job_id, attempt, seq, event, context, metrics, artifacts)
SELECT $1, $2, * FROM unnest($3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[])
ON CONFLICT (job_id, attempt, seq) DO NOTHING
