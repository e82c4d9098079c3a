-- Version 5 keeps one photo per incident: the first one survives in photo_ref.
UPDATE incidents i SET photo_ref = (
  SELECT p.photo_ref FROM incident_photos p WHERE p.incident_id = i.id ORDER BY p.seq LIMIT 1
) WHERE i.photo_ref IS NULL AND EXISTS (SELECT 1 FROM incident_photos p WHERE p.incident_id = i.id);
DROP INDEX IF EXISTS incidents_by_reporter;
ALTER TABLE incidents DROP COLUMN IF EXISTS seq;
DROP TABLE IF EXISTS incident_photos;
