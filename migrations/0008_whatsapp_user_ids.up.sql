-- WhatsApp users with a username may write with their business-scoped user id
-- (BSUID) and no phone number. The directory learns a subcontractor's BSUID the
-- first time a message carries it with their number, and finds them by it
-- afterwards. One BSUID names one user; a subcontractor has at most one (a new
-- phone number comes with a new BSUID, which replaces the old one).
ALTER TABLE subcontractors ADD COLUMN whatsapp_user_id text UNIQUE
  CHECK (whatsapp_user_id ~ '^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$');
