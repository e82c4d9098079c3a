DROP TABLE IF EXISTS messages;
DROP TABLE IF EXISTS conversation_sessions;
DROP TABLE IF EXISTS incidents;
DROP TABLE IF EXISTS tasks;
DROP TABLE IF EXISTS project_assignments;
DROP TABLE IF EXISTS projects;
DROP TABLE IF EXISTS subcontractors;
