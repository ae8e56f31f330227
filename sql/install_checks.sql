/* etl_pull: checks run first by a fresh install (see the Makefile) */

\echo Use "CREATE EXTENSION etl_pull" to load this file. \quit

-- CREATE EXTENSION creates schema etl_pull, owned by the installing role,
-- unless one exists; then it would install into it.  A schema someone else
-- made (its owner could replace our objects) or one holding objects is not
-- adopted.  Nor is a role etl_pull_admin that etl_pull did not create:
-- its members would administer etl_pull.
DO $$
DECLARE
    nsp pg_catalog.oid;
BEGIN
    SELECT n.oid INTO nsp FROM pg_catalog.pg_namespace n
     WHERE n.nspname OPERATOR(pg_catalog.=) 'etl_pull'
       AND n.nspowner OPERATOR(pg_catalog.=) (SELECT r.oid FROM pg_catalog.pg_roles r
                                            WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER);
    IF nsp IS NULL OR
       EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) nsp) OR
       EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) nsp) OR
       EXISTS (SELECT 1 FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) nsp) THEN
        RAISE EXCEPTION 'schema "etl_pull" already exists'
              USING ERRCODE = 'duplicate_schema',
                    DETAIL = 'etl_pull installs only into a schema it creates.',
                    HINT = 'Drop or rename the existing schema, then CREATE EXTENSION etl_pull.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
               WHERE r.rolname OPERATOR(pg_catalog.=) 'etl_pull_admin'
                 AND COALESCE(pg_catalog.shobj_description(r.oid, 'pg_authid'), '')
                     OPERATOR(pg_catalog.<>)
                     'created by extension etl_pull: may register tables and change their settings') THEN
        RAISE EXCEPTION 'role "etl_pull_admin" already exists and was not created by etl_pull'
              USING ERRCODE = 'duplicate_object',
                    HINT = 'Drop the role (or check who made it and why), then CREATE EXTENSION etl_pull.';
    END IF;
END
$$;
