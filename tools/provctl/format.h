/*
 * format — provctl's output formatters behind one interface.
 *
 *   table  for people: a listing as aligned columns (even of one row),
 *          any other reply as "key: value" blocks (so is a listing's
 *          closing record whose first field is "summary"); sizes as "5G"
 *   tab    a header line of field names, then tab-separated values
 *   json   one JSON object per record per line (JSON Lines)
 *
 * The daemon sends records of string fields; the formatter decides layout
 * and types them by name (fieldtype.h): JSON numbers, booleans and nulls,
 * times in ISO 8601 UTC in every format.
 */
#ifndef PROVCTL_FORMAT_H
#define PROVCTL_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

#include "wire.h"

struct formatter;

enum format_kind { FORMAT_TABLE, FORMAT_TAB, FORMAT_JSON };

int format_parse(const char *name, enum format_kind *out);

struct formatter *format_new(enum format_kind kind, FILE *out);
/* -o: print only these comma-separated fields, in this order ("all" or
 * NULL: every field).  0, or -1 for an empty name or too many. */
int format_set_columns(struct formatter *f, const char *list);
/* The command lists rows (table: columns) rather than objects. */
void format_set_rows(struct formatter *f, bool rows);
/* One RECORD frame (fields key, value, ...). */
void format_record(struct formatter *f, const struct wire_msg *m);
/* After a successful reply: a listing (format_set_rows) that had no
 * record prints its header alone, from fields ("a,b,c": the fields its
 * rows carry; the -o columns when given), so people see the columns and
 * scripts reading tab get the header line they expect.  json prints
 * nothing (no objects).  Exits 2 when -o names a column not in fields. */
void format_empty_listing(struct formatter *f, const char *fields);
/* Flush anything buffered (end of reply). */
void format_finish(struct formatter *f);
/* After the reply: 0 when every column of format_set_columns() was a field
 * of some record; else -1 and msg says which was not, with the fields the
 * first record had (a typo: records carry their empty fields too). */
int format_check_columns(const struct formatter *f, char *msg, size_t n);
void format_free(struct formatter *f);

#endif
