-- WASI programs (the job protocol): what an experiment's program is started
-- with besides the protocol's own, as JSON: `{"args": [...], "env": {...}}`
-- (each key left out when empty). Every experiment before this one, and
-- every component, has `{}`.

ALTER TABLE experiment ADD COLUMN invocation TEXT NOT NULL DEFAULT '{}';
