-- Successive halving (`experiment.halving`): experiments whose jobs come in
-- rungs, each added when the rung before it has ended.
--
-- experiment.sweep: for a halving experiment, its plan as JSON: the number
-- of rungs and the experiment document (the file, or the files it extends
-- merged) that later rungs are made from; NULL for any other experiment.
--
-- rung: one row per rung, written in the same transaction as the rung's
-- jobs. Its primary key (experiment_id, rung) is what lets exactly one of
-- many racing workers add a rung: the others' inserts of the same rung add
-- nothing, and their transactions write no job.
--   first_position, jobs: the rung's jobs are the positions
--     first_position .. first_position + jobs - 1;
--   rungs: how many rungs the sweep has in all;
--   samples: the sample indices it runs, as JSON (NULL for rung 0: all);
--   stopped: why the sweep stopped after this rung, or NULL.

ALTER TABLE experiment ADD COLUMN sweep TEXT;

CREATE TABLE rung (
    experiment_id  BIGINT  NOT NULL REFERENCES experiment (id),
    rung           BIGINT  NOT NULL CHECK (rung >= 0),
    rungs          BIGINT  NOT NULL CHECK (rungs > rung),
    first_position BIGINT  NOT NULL CHECK (first_position >= 0),
    jobs           BIGINT  NOT NULL CHECK (jobs > 0),
    samples        TEXT,
    created_at     TEXT    NOT NULL,
    created_by     TEXT,
    stopped        TEXT,
    PRIMARY KEY (experiment_id, rung)
);
