/*
 * format — provctl's output formatters behind one interface.
 *
 *   table  aligned columns for people (a single record prints as
 *          "key: value" lines)
 *   tab    a header line of field names, then tab-separated values
 *   json   one JSON object per record per line (JSON Lines)
 *
 * The daemon sends records of string fields; the formatter decides layout.
 */
#ifndef PROVCTL_FORMAT_H
#define PROVCTL_FORMAT_H

#include <stdio.h>

#include "wire.h"

struct formatter;

enum format_kind { FORMAT_TABLE, FORMAT_TAB, FORMAT_JSON };

int format_parse(const char *name, enum format_kind *out);

struct formatter *format_new(enum format_kind kind, FILE *out);
/* One RECORD frame (fields key, value, ...). */
void format_record(struct formatter *f, const struct wire_msg *m);
/* Flush anything buffered (end of reply). */
void format_finish(struct formatter *f);
void format_free(struct formatter *f);

#endif
