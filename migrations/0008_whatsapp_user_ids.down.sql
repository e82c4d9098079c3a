-- Users known only by their BSUID are no longer recognised until they write with their number again.
ALTER TABLE subcontractors DROP COLUMN IF EXISTS whatsapp_user_id;
