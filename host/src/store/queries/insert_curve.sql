-- A metric's curve sketch in an attempt that just ended (after finish.sql).
INSERT INTO curve (job_id, attempt, name, x, total, points, sketch)
VALUES (:job, :attempt, :name, :x, :total, :points, :sketch)
