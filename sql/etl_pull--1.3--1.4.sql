/* etl_pull upgrade script, version 1.3 to 1.4 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.4'" to load this file. \quit

-- Issue 25 (trust): 1.4 changes behaviour in C (loads run the target's code
-- as its owner, hostile replies refused, remote text made printable, ...).
-- Catalog changes, if any, follow below, each under the item it serves.
