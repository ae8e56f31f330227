/*-------------------------------------------------------------------------
 *
 * settinglist.h
 *		  The per-table settings of etl_pull.tables, one line each.
 *
 * Each line is
 *
 *	ETL_SETTING(name, kind, C type, default, choices, min, max, description)
 *
 *	name		the column of etl_pull.tables and the field of EtlPullTable
 *	kind		an EtlPullSettingKind: what the validator accepts and how the
 *				reader decodes the column (see option.c)
 *	C type		of the field; it must be the kind's (checked when option.c
 *				compiles): char * for text kinds, List * for column lists
 *				and column types, int, double, bool, and for a choice an
 *				enum whose members follow the order of the choices
 *	default		the column's DEFAULT as SQL text ("1000", "full", "true"),
 *				or NULL for a column that is NULL by default
 *	choices		a choice's values, comma-separated, in the order of its
 *				enum: the field holds the value's position in this list
 *	min, max	an integer's range
 *	description	one line, for etl_pull.table_settings()
 *
 * This file has no include guard: it is included wherever ETL_SETTING is
 * defined, to expand each line (the X-macro pattern of PostgreSQL's
 * rmgrlist.h and kwlist.h): in etl_pull.h into the fields of EtlPullTable,
 * in option.c into the descriptors that drive the validator
 * (etl_pull.check_table_option), the reader (EtlPullReadTable) and
 * etl_pull.table_settings().  The order of the lines is the order in which
 * error hints list the settings.
 *
 * To add a setting, edit two places:
 *
 *	1. a line here;
 *	2. its column in etl_pull.tables, added by the upgrade script of the
 *	   next version (released scripts are never edited): the same name,
 *	   the SQL type of its kind (text, text[] for a column list, integer,
 *	   numeric or boolean), the same DEFAULT, NOT NULL when it has a
 *	   default, and a CHECK of the values the validator allows.
 *
 * A choice whose values the code names also gets its enum in etl_pull.h.
 * Then document the setting in README.md's "Per-table settings" table, and
 * the tests say whether the places agree: sql/settings.sql compares the
 * descriptors with the columns (names, types, defaults, nullability,
 * CHECKs), test/t/005_settings_docs.sh with the README.
 *
 * IDENTIFICATION
 *		  src/settinglist.h
 *
 *-------------------------------------------------------------------------
 */

/* there is deliberately no #ifndef guard: see above */

ETL_SETTING(source_table, SET_TEXT, char *, NULL, NULL, 0, 0,
			"MySQL table: table or db.table (NULL: the name, in the server's dbname)")
ETL_SETTING(target_table, SET_QUALIFIED_NAME, char *, NULL, NULL, 0, 0,
			"PostgreSQL table: table or schema.table (NULL: public.<name>)")
ETL_SETTING(extraction, SET_CHOICE, EtlPullExtraction, "full", "full, incremental, diff, binlog", 0, 0,
			"which rows a load reads: all, those past the watermark, or the key ranges whose hashes differ; or binlog: the group's stream applies the source's binary log")
ETL_SETTING(incremental_columns, SET_COLUMN_LIST, List *, NULL, NULL, 0, 0,
			"columns whose maximum is the watermark of incremental loads")
ETL_SETTING(strategy, SET_CHOICE, EtlPullStrategy, "auto", "auto, standard, stream, copy, parallel", 0, 0,
			"how a load writes the target")
ETL_SETTING(batch_size, SET_INT, int, "1000", NULL, 1, 100000,
			"rows per bulk insert")
ETL_SETTING(parallel_chunks, SET_INT, int, "4", NULL, 1, 16,
			"workers of the parallel strategy")
ETL_SETTING(estimated_size_mb, SET_NUMERIC, double, NULL, NULL, 0, 0,
			"the size strategy auto goes by (NULL: measured at the source)")
ETL_SETTING(zero_dates, SET_CHOICE, EtlPullZeroDates, "null", "null, error, infinity", 0, 0,
			"zero dates load as NULL, fail the load, or load as -infinity")
ETL_SETTING(invalid_utf8, SET_CHOICE, EtlPullInvalidUtf8, "error", "error, replace", 0, 0,
			"invalid UTF-8 or NUL bytes in text fail the load, or become U+FFFD")
ETL_SETTING(on_error, SET_CHOICE, EtlPullOnError, "abort", "abort, reject", 0, 0,
			"a row that cannot be converted fails the load, or goes to etl_pull.rejects")
ETL_SETTING(lookback, SET_NUMERIC, double, "0", NULL, 0, 0,
			"incremental loads re-read this far behind the watermark: seconds for date/time columns, units for numbers")
ETL_SETTING(append_only, SET_BOOL, bool, "false", NULL, 0, 0,
			"incremental loads append instead of merging by primary key")
ETL_SETTING(delete_missing, SET_BOOL, bool, "false", NULL, 0, 0,
			"after an incremental load, delete target rows whose key is gone from the source")
ETL_SETTING(on_busy, SET_CHOICE, EtlPullOnBusy, "wait", "wait, skip", 0, 0,
			"when the table is already loading: wait, or skip at once")
ETL_SETTING(load_group, SET_TEXT, char *, NULL, NULL, 0, 0,
			"a group name for etl_pull.load_all(load_group)")
ETL_SETTING(column_types, SET_COLUMN_TYPES, List *, NULL, NULL, 0, 0,
			"target type overrides for created targets: column:type, ...")
ETL_SETTING(pg_settings, SET_PG_SETTINGS, char *, NULL, NULL, 0, 0,
			"PostgreSQL settings during this table's loads, after etl_pull.pg_settings: name=value, ...")
ETL_SETTING(mysql_settings, SET_MYSQL_SETTINGS, char *, NULL, NULL, 0, 0,
			"MySQL SET SESSION settings of this table's loads, after etl_pull.mysql_settings: name=value, ...")
ETL_SETTING(analyze_target, SET_BOOL, bool, "true", NULL, 0, 0,
			"ANALYZE the target after a full load")
ETL_SETTING(indexes, SET_CHOICE, EtlPullIndexes, "primary", "primary, all", 0, 0,
			"which of the source's indexes a created target gets: its primary key, or every B-tree index too")
ETL_SETTING(verify, SET_CHOICE, EtlPullVerifyMode, "off", "off, count, full", 0, 0,
			"a full load checks what it wrote against the source before it commits: not, by row count, or by every row's hash")
ETL_SETTING(on_schema_change, SET_CHOICE, EtlPullSchemaChange, "error", "error, evolve", 0, 0,
			"when the source's columns changed: fail the load, or alter the target first (add columns, widen types)")
ETL_SETTING(enabled, SET_BOOL, bool, "true", NULL, 0, 0,
			"a disabled table is not loaded")
ETL_SETTING(protocol, SET_CHOICE, EtlPullProtocol, "binary", "binary, text", 0, 0,
			"how rows are read from MySQL: prepared statements (exact doubles and dates), or text queries")
ETL_SETTING(skip_unchanged, SET_CHOICE, EtlPullSkipUnchanged, "default", "default, on, off", 0, 0,
			"skip a load when the source table (MyISAM, non-transactional Aria) is unchanged since the last load (default: etl_pull.skip_unchanged)")
ETL_SETTING(source_lock, SET_CHOICE, EtlPullSourceLock, "none", "none, read", 0, 0,
			"a load of a source no snapshot covers (MyISAM, Aria) holds its writers back for the whole read, making parallel chunks, verify and a consistent load_all exact: none, or read (FLUSH TABLES ... WITH READ LOCK)")
ETL_SETTING(full_compare_every, SET_INT, int, "1", NULL, 1, 1000,
			"a diff table the source only appends to (a log): every N-th run compares every row, the runs between read only the rows past the target's highest key (and, on MyISAM and Aria, check the row count); 1: every run compares every row")
