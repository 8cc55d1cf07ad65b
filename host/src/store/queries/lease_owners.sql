-- Who holds jobs of :experiments.
SELECT DISTINCT lease_owner FROM job
WHERE status = 'ASSIGNED' AND lease_owner IS NOT NULL
  AND experiment_id IN_LIST(:experiments)
