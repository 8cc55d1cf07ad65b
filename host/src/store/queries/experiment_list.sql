-- Every experiment, by id.
SELECT id, project, name, created_at FROM experiment ORDER BY id
