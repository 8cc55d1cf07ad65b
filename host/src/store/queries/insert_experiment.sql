-- Adds an experiment; returns its id.
INSERT INTO experiment (project, name, description, created_at, source_path, source_digest,
                        spec, module_digest, datasets, limits, determinism, retries,
                        engine, provenance, digest_log, sweep, invocation)
VALUES (:project, :name, :description, :created_at, :source_path, :source_digest,
        :spec, :module_digest, :datasets, :limits, :determinism, :retries,
        :engine, :provenance, :digest_log, :sweep, :invocation)
RETURNING id
