SELECT name, digest, size FROM artifact WHERE job_id = $1 AND attempt = $2 ORDER BY seq
