# etl_pull: PGXS build.  PG_CONFIG picks the PostgreSQL installation;
# the MySQL client flags come from mariadb_config (or mysql_config).

EXTENSION = etl_pull
EXTVERSION = 1.5
MODULE_big = etl_pull
OBJS = \
	src/bgworker.o \
	src/etl_pull.o \
	src/valid_text.o \
	src/catalog/catalog.o \
	src/catalog/option.o \
	src/catalog/recorder.o \
	src/catalog/register.o \
	src/catalog/server_ddl.o \
	src/catalog/settings_list.o \
	src/remote/binrow.o \
	src/remote/chunks.o \
	src/remote/connection.o \
	src/remote/lifetime.o \
	src/remote/replication.o \
	src/remote/reply.o \
	src/remote/session.o \
	src/remote/snapshot.o \
	src/remote/source.o \
	src/verify/canon.o \
	src/verify/verify.o \
	src/load/cadence.o \
	src/load/check_loaded.o \
	src/load/convert.o \
	src/load/copy_feed.o \
	src/load/held.o \
	src/load/incremental.o \
	src/load/load.o \
	src/load/merge.o \
	src/load/parallel.o \
	src/load/progress.o \
	src/load/rows.o \
	src/load/rowdiff.o \
	src/load/schema.o \
	src/load/settle.o \
	src/load/sink.o \
	src/load/strategy_copy.o \
	src/load/strategy_diff.o \
	src/load/strategy_incremental.o \
	src/load/strategy_standard.o \
	src/load/strategy_swap.o \
	src/load/target.o \
	src/load/unchanged.o \
	src/stream/apply.o \
	src/stream/control.o \
	src/stream/event.o \
	src/stream/prereq.o \
	src/stream/rowimage.o \
	src/stream/snapshot.o \
	src/stream/worker.o \
	src/commands/binlog_events.o \
	src/commands/cron.o \
	src/commands/import_tables.o \
	src/commands/load_all.o \
	src/commands/load_table.o \
	src/commands/plan.o \
	src/commands/verify_table.o
# Released scripts (1.0's, and the 1.0--1.1 upgrade) are never edited:
# changes go into the next upgrade script, and a fresh install's script is
# built from the checks that refuse to adopt foreign objects, 1.0's script
# and the upgrades, so that a fresh install and an upgraded one are the
# same by construction
DATA = sql/etl_pull--1.0.sql sql/etl_pull--1.0--1.1.sql sql/etl_pull--1.1--1.2.sql \
	sql/etl_pull--1.2--1.3.sql sql/etl_pull--1.3--1.4.sql \
	sql/etl_pull--1.4--1.5.sql
DATA_built = etl_pull--$(EXTVERSION).sql
EXTRA_CLEAN = etl_pull--$(EXTVERSION).sql
PGFILEDESC = "etl_pull - load MySQL and MariaDB tables into PostgreSQL"

# pg_regress tests: sql/<test>.sql, expected/<test>.out (they need the
# servers test/run starts: see README.md)
REGRESS = options settings load types protocol failures strategies privileges security load_all integrity plan
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

MYSQL_CONFIG ?= $(shell command -v mariadb_config || command -v mysql_config)
PG_CPPFLAGS = -I$(srcdir)/src $(shell $(MYSQL_CONFIG) --include)
SHLIB_LINK = $(shell $(MYSQL_CONFIG) --libs)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

etl_pull--$(EXTVERSION).sql: sql/install_checks.sql sql/etl_pull--1.0.sql sql/etl_pull--1.0--1.1.sql \
		sql/etl_pull--1.1--1.2.sql sql/etl_pull--1.2--1.3.sql sql/etl_pull--1.3--1.4.sql \
		sql/etl_pull--1.4--1.5.sql
	{ echo '/* etl_pull install script, version $(EXTVERSION): built by the Makefile from sql/ */'; \
	  for f in $^; do echo; echo "-- from $$f"; grep -v '^\\echo Use ' $$f; done; } > $@

# every object depends on the module-wide headers and the modules' own
ETL_PULL_HEADERS = $(wildcard $(srcdir)/src/*.h $(srcdir)/src/*/*.h)
$(OBJS): $(ETL_PULL_HEADERS)

# the benchmarks (see README.md, Performance): not tests, they print figures
.PHONY: bench
bench:
	bash test/bench
	bash test/bench_incremental
	bash test/bench_wan
	bash test/bench_wholedb
	bash test/bench_verify
	bash test/bench_replica
	bash test/bench_stream
