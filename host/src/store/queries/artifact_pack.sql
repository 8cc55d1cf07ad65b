-- Where artifact :digest is when a commit packed it: one row is enough
-- (every copy holds the same bytes).
SELECT pack, pack_offset, size FROM artifact
WHERE digest = :digest AND pack IS NOT NULL
LIMIT 1
