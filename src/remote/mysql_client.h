/*-------------------------------------------------------------------------
 *
 * mysql_client.h
 *		  The client library's headers, for the two files that call it
 *		  (connection.c and replication.c).
 *
 * The client library's ma_list.h declares list_length(), list_free() and
 * list_delete() with other signatures than pg_list.h; its copies get other
 * names while its headers are read.  Nothing here calls them.
 *
 * IDENTIFICATION
 *		  src/remote/mysql_client.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ETL_PULL_MYSQL_CLIENT_H
#define ETL_PULL_MYSQL_CLIENT_H

#define list_add	mysql_client_list_add
#define list_delete mysql_client_list_delete
#define list_cons	mysql_client_list_cons
#define list_reverse mysql_client_list_reverse
#define list_free	mysql_client_list_free
#define list_length mysql_client_list_length
#define list_walk	mysql_client_list_walk
#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <mariadb_rpl.h>
#undef list_add
#undef list_delete
#undef list_cons
#undef list_reverse
#undef list_free
#undef list_length
#undef list_walk

#endif							/* ETL_PULL_MYSQL_CLIENT_H */
