/* etl_pull upgrade script, version 1.2 to 1.3 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.3'" to load this file. \quit
