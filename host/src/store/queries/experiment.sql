-- Everything experiment :id was added with.
SELECT created_at, project, name, description, source_path, source_digest, spec,
       module_digest, datasets, limits, determinism, retries, engine, provenance,
       digest_log, sweep, invocation
FROM experiment
WHERE id = :id
