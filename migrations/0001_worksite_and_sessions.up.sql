-- The worksite data and the conversation log. Names follow the seed's schema so
-- its verification and monitoring SQL runs unchanged.

CREATE TABLE subcontractors (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  phone        text NOT NULL UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  display_name text NOT NULL,
  locale       text NOT NULL DEFAULT 'fr' CHECK (locale IN ('fr', 'en')),
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL,
  address    text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Which subcontractor works on which project.
CREATE TABLE project_assignments (
  subcontractor_id uuid NOT NULL REFERENCES subcontractors (id) ON DELETE CASCADE,
  project_id       uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  PRIMARY KEY (subcontractor_id, project_id)
);
CREATE INDEX project_assignments_by_project ON project_assignments (project_id);

CREATE TABLE tasks (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  title      text NOT NULL,
  status     text NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done', 'blocked')),
  due_date   date,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_by_project ON tasks (project_id, created_at);

-- Problems reported from the field. `report_key` (the inbound message) makes a
-- retried message record its incident once.
CREATE TABLE incidents (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  report_key       text NOT NULL UNIQUE,
  project_id       uuid NOT NULL REFERENCES projects (id),
  subcontractor_id uuid NOT NULL REFERENCES subcontractors (id),
  description      text NOT NULL,
  photo_ref        text,
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversation_sessions (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subcontractor_id uuid NOT NULL REFERENCES subcontractors (id),
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended', 'escalated')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  last_message_at  timestamptz NOT NULL DEFAULT now(),
  ended_at         timestamptz,
  end_reason       text CHECK (end_reason IN ('timeout', 'escalated', 'superseded', 'manual')),
  CHECK ((status = 'active') = (ended_at IS NULL))
);
-- A user's sessions, newest first (admin views, the seed's monitoring queries).
CREATE INDEX conversation_sessions_by_user ON conversation_sessions (subcontractor_id, created_at DESC);
CREATE INDEX conversation_sessions_created ON conversation_sessions (created_at);

CREATE TABLE messages (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq                 bigserial NOT NULL,
  session_id          uuid NOT NULL REFERENCES conversation_sessions (id),
  subcontractor_id    uuid NOT NULL REFERENCES subcontractors (id),
  direction           text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  content             text NOT NULL,
  provider_message_id text,
  -- Tool outputs, the interactive payload tapped, the classified intent.
  metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at          timestamptz NOT NULL DEFAULT now()
);
-- The pipeline's context query: a session's latest messages, newest first. `seq` is commit
-- order (a user's turns are serialised), so it orders turns stamped in the same millisecond.
CREATE INDEX messages_by_session_newest ON messages (session_id, seq DESC);
CREATE INDEX messages_by_provider_id ON messages (provider_message_id) WHERE provider_message_id IS NOT NULL;
