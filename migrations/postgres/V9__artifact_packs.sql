-- Remote content: small artifacts that a commit uploads together go in one
-- object, `packs/<digest of the pack>`, at `pack_offset` (their size is
-- `size`), so that a batch of jobs costs one request, not one per
-- artifact. NULL: the artifact is its own object (or there is no bucket).

ALTER TABLE artifact ADD COLUMN pack TEXT;
ALTER TABLE artifact ADD COLUMN pack_offset BIGINT;
