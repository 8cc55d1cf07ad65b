-- Records a cluster submission for each of :experiments.
INSERT INTO submission (experiment_id, scheduler, scheduler_job, submitted_at, command,
                        workers, slots)
SELECT id, :scheduler, :job, :at, :command, :workers, :slots FROM EACH_ID(:experiments)
