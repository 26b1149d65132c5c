-- Granary's PostgreSQL roles, one per job, each with only the privileges its code needs.
-- Run as a superuser (or the database owner) with psql, connected to Granary's database:
--
--   psql -v ON_ERROR_STOP=1 -d granary \
--     -v registry_password="$(cat pg-registry)" \
--     -v reader_password="$(cat pg-offline-reader)" \
--     -v writer_password="$(cat pg-offline-writer)" -f roles.sql
--
-- (init-roles.sh does this from a folder of secret files.) Idempotent: a second run changes
-- only the passwords (a schema an older setup let a role create is handed to its owner). The
-- offline tables are in schema public; tables created later by the
-- role that runs this script get the same grants (default privileges); tables created by
-- another role need the two GRANT lines below run again, or that role's own default
-- privileges.
--
--   granary_registry        the registry: owns schema registry (made here; its migrations fill
--                           it).
--   granary_offline_reader  materialization reads and historical retrieval: SELECT on the
--                           offline tables, TEMP for a retrieval's entity table. Nothing else.
--   granary_offline_writer  the materializer's writes: INSERT (COPY) of pushed rows into the
--                           offline tables, and its own state: schemas jobs and granary_ingest.

-- The passwords below must not reach the server's log, whatever log_statement says (only a
-- superuser may change these settings; another admin role keeps the server's).
DO $$ BEGIN
  SET log_statement = 'none';
  SET log_min_error_statement = 'panic';
EXCEPTION WHEN insufficient_privilege THEN NULL;
END $$;

SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['granary_registry', 'granary_offline_reader', 'granary_offline_writer']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

ALTER ROLE granary_registry LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'registry_password';
ALTER ROLE granary_offline_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'reader_password';
ALTER ROLE granary_offline_writer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'writer_password';

-- Nobody but these roles (and the owner) connects, and none of them may create schemas: a
-- role that could would be able to put a table of its own before public in another role's
-- search path ("$user" comes first). Their schemas are made here, owned by their role, and
-- their migrations only add tables to them; each role looks up names in public only. The
-- reader may make temporary tables (a retrieval's entity rows) and nothing else.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO granary_registry, granary_offline_reader, '
              'granary_offline_writer', current_database()) \gexec
SELECT format('REVOKE CREATE ON DATABASE %I FROM granary_registry, granary_offline_reader, '
              'granary_offline_writer', current_database()) \gexec
SELECT format('GRANT TEMPORARY ON DATABASE %I TO granary_offline_reader', current_database()) \gexec
CREATE SCHEMA IF NOT EXISTS registry AUTHORIZATION granary_registry;
CREATE SCHEMA IF NOT EXISTS jobs AUTHORIZATION granary_offline_writer;
CREATE SCHEMA IF NOT EXISTS granary_ingest AUTHORIZATION granary_offline_writer;
ALTER SCHEMA registry OWNER TO granary_registry;
ALTER SCHEMA jobs OWNER TO granary_offline_writer;
ALTER SCHEMA granary_ingest OWNER TO granary_offline_writer;
SELECT format('ALTER ROLE %I IN DATABASE %I SET search_path = public', r, current_database())
  FROM unnest(ARRAY['granary_registry', 'granary_offline_reader', 'granary_offline_writer']) AS r
\gexec

-- The offline tables.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO granary_offline_reader, granary_offline_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO granary_offline_reader;
GRANT INSERT ON ALL TABLES IN SCHEMA public TO granary_offline_writer;
-- A serial or identity column's sequence: an INSERT draws from it.
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO granary_offline_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO granary_offline_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO granary_offline_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO granary_offline_writer;
