SELECT log FROM job_log WHERE job_id = $1 AND attempt = $2
