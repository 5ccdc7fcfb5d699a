#ifndef SMTP_SIDECAR_CSQLITE_SHIM_H
#define SMTP_SIDECAR_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a macro that casts -1 to a function pointer, which Swift cannot
// import. This inline function hands the same value to Swift.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}
#endif
