-- SCRAM verifiers of the roles PgBouncer authenticates (written to its auth_file).
SELECT rolname AS role_name, rolpassword AS scram_verifier
FROM pg_authid
WHERE rolname = ANY($1::text[]) AND rolpassword LIKE 'SCRAM-SHA-256$%';
