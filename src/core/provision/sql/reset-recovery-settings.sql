-- After a restore has ended recovery: drop what pgBackRest wrote into postgresql.auto.conf so it
-- cannot outrank the configuration Patroni writes. One statement per line: ALTER SYSTEM cannot run
-- inside the implicit transaction of a multi-statement query.
ALTER SYSTEM RESET restore_command;
ALTER SYSTEM RESET recovery_target;
ALTER SYSTEM RESET recovery_target_time;
ALTER SYSTEM RESET recovery_target_name;
ALTER SYSTEM RESET recovery_target_lsn;
ALTER SYSTEM RESET recovery_target_xid;
ALTER SYSTEM RESET recovery_target_action;
ALTER SYSTEM RESET recovery_target_inclusive;
ALTER SYSTEM RESET recovery_target_timeline;
SELECT pg_reload_conf();
