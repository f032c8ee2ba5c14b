#include "CSQLiteSupport.h"

int baton_sqlite_keep_wal_on_close(sqlite3 *database) {
    return sqlite_nio_sqlite3_db_config(database, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
}
