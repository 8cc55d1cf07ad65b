-- Stores a module's bytes under its digest, once.
INSERT INTO module (digest, wasm) VALUES (:digest, :wasm) ON CONFLICT (digest) DO NOTHING
