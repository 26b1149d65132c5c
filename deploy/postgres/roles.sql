-- Granary's PostgreSQL roles, one per job, each with only the privileges its code needs.
-- Run with psql, connected to Granary's database, as a superuser or as the database's owner
-- with CREATEROLE (a managed PostgreSQL's admin):
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
  SET log_min_duration_statement = -1;
  SET log_min_duration_sample = -1;
  SET log_transaction_sample_rate = 0;
EXCEPTION WHEN insufficient_privilege THEN NULL;
END $$;

SELECT format('CREATE ROLE %I LOGIN', r)
  FROM unnest(ARRAY['granary_registry', 'granary_offline_reader', 'granary_offline_writer']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

ALTER ROLE granary_registry LOGIN PASSWORD :'registry_password';
ALTER ROLE granary_offline_reader LOGIN PASSWORD :'reader_password';
ALTER ROLE granary_offline_writer LOGIN PASSWORD :'writer_password';
-- Attributes only a superuser may change (as another admin, the roles keep CREATE ROLE's
-- defaults, which are these).
DO $$ BEGIN
  IF current_setting('is_superuser') = 'on' THEN
    ALTER ROLE granary_registry NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    ALTER ROLE granary_offline_reader NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    ALTER ROLE granary_offline_writer NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END $$;

-- Handing schemas and tables to a role takes membership in it: an admin that is not a
-- superuser is made a member for the time of this script.
SELECT NOT pg_has_role('granary_registry', 'MEMBER') AS join_registry,
       NOT pg_has_role('granary_offline_writer', 'MEMBER') AS join_writer \gset
\if :join_registry
GRANT granary_registry TO CURRENT_USER;
\endif
\if :join_writer
GRANT granary_offline_writer TO CURRENT_USER;
\endif

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
-- Tables an older setup made in them (its single role owned everything) go with them; a
-- serial column's sequence follows its table.
DO $$
DECLARE r record;
BEGIN
  FOR r IN
    SELECT n.nspname, c.relname,
           CASE n.nspname WHEN 'registry' THEN 'granary_registry' ELSE 'granary_offline_writer'
           END AS owner
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('registry', 'jobs', 'granary_ingest') AND c.relkind IN ('r', 'p')
  LOOP
    EXECUTE format('ALTER TABLE %I.%I OWNER TO %I', r.nspname, r.relname, r.owner);
  END LOOP;
END $$;
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

\if :join_registry
REVOKE granary_registry FROM CURRENT_USER;
\endif
\if :join_writer
REVOKE granary_offline_writer FROM CURRENT_USER;
\endif
