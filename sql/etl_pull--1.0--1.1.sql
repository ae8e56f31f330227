/* etl_pull upgrade script, version 1.0 to 1.1 */

\echo Use "ALTER EXTENSION etl_pull UPDATE TO '1.1'" to load this file. \quit
