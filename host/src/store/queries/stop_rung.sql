-- Marks rung :rung of :experiment's sweep stopped, with :reason.
UPDATE rung SET stopped = :reason
WHERE experiment_id = :experiment AND rung = :rung AND stopped IS NULL
