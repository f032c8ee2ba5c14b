#ifndef BATON_SQLITE_SUPPORT_H
#define BATON_SQLITE_SUPPORT_H

#include <sqlite_nio_sqlite3.h>

/// Leaves the write-ahead log in place when the last connection to the file closes, instead of
/// checkpointing it into the database and deleting it (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE). The
/// option is set through sqlite3_db_config, which is variadic, and Swift cannot call variadic C
/// functions. Returns an SQLite result code.
int baton_sqlite_keep_wal_on_close(sqlite3 *database);

#endif
