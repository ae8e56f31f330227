/* etl_pull: checks run first by a fresh install (see the Makefile) */

\echo Use "CREATE EXTENSION etl_pull" to load this file. \quit
