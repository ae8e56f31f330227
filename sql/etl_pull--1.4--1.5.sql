/* etl_pull upgrade script, version 1.4 to 1.5 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.5'" to load this file. \quit

-- 1.5: the real OpenDental replica (issue 28: exact default plans, unchanged
-- tables skipped, gentle reads of MyISAM sources, a full load near the
-- floor) and the binary-log stream (issue 27).  Each section below is headed
-- by the item it serves.
