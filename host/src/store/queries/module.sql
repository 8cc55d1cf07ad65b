-- A module's bytes by digest.
SELECT wasm FROM module WHERE digest = :digest
