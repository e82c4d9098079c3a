-- A problem report is built over several messages: a description, then any
-- number of photos (or a photo first, then its description). Each photo is a
-- row; adding the same photo again (a retried message) is a no-op.
-- incidents.photo_ref is still written when a report starts with a photo, as
-- version 5 did, and read when an incident has no incident_photos rows (one
-- written by an instance still on version 5 during a rolling deploy).
CREATE TABLE incident_photos (
  incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  photo_ref   text NOT NULL,
  seq         bigserial NOT NULL,
  added_at    timestamptz NOT NULL,
  PRIMARY KEY (incident_id, photo_ref)
);

INSERT INTO incident_photos (incident_id, photo_ref, added_at)
SELECT id, photo_ref, created_at FROM incidents WHERE photo_ref IS NOT NULL ORDER BY created_at, id;

-- A user's reports, newest first: in the order they were recorded, whatever
-- clock stamped them.
ALTER TABLE incidents ADD COLUMN seq bigserial;
CREATE INDEX incidents_by_reporter ON incidents (subcontractor_id, seq DESC);
