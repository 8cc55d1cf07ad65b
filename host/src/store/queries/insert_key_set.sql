-- A set of record keys (digest, text), once per distinct set; the attempt
-- row (insert_attempt.sql) then points at it by digest. On PostgreSQL, a
-- set another transaction is adding waits here for that one to end.
INSERT INTO key_set (digest, keys) VALUES (:digest, :keys)
ON CONFLICT (digest) DO NOTHING
