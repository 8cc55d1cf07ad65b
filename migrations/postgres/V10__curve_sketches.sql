-- A min/max sketch of each metric's curve in an attempt that streamed its
-- records (16,384 or more), made as the records went by and written with
-- the attempt's end: the UI draws a curve of a million points from it
-- without reading the million records. `x` is the context key on the x
-- axis (NULL: the record's place); `total` counts the records carrying the
-- metric, `points` those drawn (a number, at a numeric x); `sketch` holds
-- `[x, y]` pairs as little-endian f64, by x: every point when `points` is
-- at most 16,384, else the first and last point and each bucket's lowest
-- and highest.

CREATE TABLE curve (
    job_id  BIGINT  NOT NULL REFERENCES job (id),
    attempt BIGINT  NOT NULL,
    name    TEXT    NOT NULL,
    x       TEXT,
    total   BIGINT  NOT NULL,
    points  BIGINT  NOT NULL,
    sketch  BYTEA   NOT NULL,
    PRIMARY KEY (job_id, attempt, name)
);
