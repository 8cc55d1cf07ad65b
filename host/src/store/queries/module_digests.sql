-- Every stored module's digest.
SELECT digest FROM module ORDER BY digest
