-- Granary's PostgreSQL roles, one per job, each with only the privileges its code needs.
-- Run as a superuser (or the database owner) with psql, connected to Granary's database:
--
--   psql -v ON_ERROR_STOP=1 -d granary \
--     -v registry_password="$(cat pg-registry)" \
--     -v reader_password="$(cat pg-offline-reader)" \
--     -v writer_password="$(cat pg-offline-writer)" -f roles.sql
--
-- (init-roles.sh does this from a folder of secret files.) Idempotent: a second run changes
-- only the passwords. The offline tables are in schema public; tables created later by the
-- role that runs this script get the same grants (default privileges); tables created by
-- another role need the two GRANT lines below run again, or that role's own default
-- privileges.
--
--   granary_registry        the registry: owns schema registry (its migrations create it).
--   granary_offline_reader  materialization reads and historical retrieval: SELECT on the
--                           offline tables, TEMP for a retrieval's entity table. Nothing else.
--   granary_offline_writer  the materializer's writes: INSERT (COPY) of pushed rows into the
--                           offline tables, and its own state: schemas jobs and granary_ingest.

SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['granary_registry', 'granary_offline_reader', 'granary_offline_writer']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

ALTER ROLE granary_registry LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'registry_password';
ALTER ROLE granary_offline_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'reader_password';
ALTER ROLE granary_offline_writer LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'writer_password';

-- Nobody but these roles (and the owner) connects; only the registry and the writer create
-- schemas (their migrations); the reader may make temporary tables and nothing else.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO granary_registry, granary_offline_reader, '
              'granary_offline_writer', current_database()) \gexec
SELECT format('GRANT CREATE ON DATABASE %I TO granary_registry, granary_offline_writer',
              current_database()) \gexec
SELECT format('GRANT TEMPORARY ON DATABASE %I TO granary_offline_reader', current_database()) \gexec

-- The offline tables.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO granary_offline_reader, granary_offline_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO granary_offline_reader;
GRANT INSERT ON ALL TABLES IN SCHEMA public TO granary_offline_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO granary_offline_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO granary_offline_writer;
