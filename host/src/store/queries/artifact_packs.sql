-- Every pack an artifact row points at.
SELECT DISTINCT pack FROM artifact WHERE pack IS NOT NULL
