/*
 * libFuzzer target for the control protocol as provd receives it.
 *
 * Every input is used twice:
 *
 *   1. as the bytes a client writes to the control socket.  Frames are
 *      decoded one after another the way a connection's input buffer is,
 *      until the decoder wants more or refuses;
 *   2. as the fields of one REQUEST, separated by 0x1E bytes, encoded with
 *      the frame encoder and decoded again.  Mutating a length-prefixed
 *      frame rarely keeps its lengths consistent; this form lets the fuzzer
 *      add, drop and edit arguments freely, so cmd_parse sees every shape of
 *      argument list.
 *
 * Every decoded frame is checked:
 *
 *   - the decoder's promises: a known type, at most WIRE_MAX_FIELDS fields,
 *     each NUL-terminated, a frame size that adds up, a message on refusal;
 *     any shorter prefix of a frame is "need more" (or a version refusal),
 *     never a frame;
 *   - round trip: the fields re-encoded with wire_begin/wire_add/wire_finish
 *     give back exactly the bytes of the frame, which decode to equal fields;
 *   - REQUEST frames go down command_dispatch's path: noun and verb as C
 *     strings, cmd_lookup, then cmd_parse over the remaining fields; what
 *     cmd_parse accepts must respect the command's spec (operand counts,
 *     only the spec's options, no NUL where none is allowed, no repeated
 *     single options, values inside the frame), and the accessors
 *     (cmd_arg, cmd_arg_len, cmd_flag, cmd_arg_nth) agree with it.
 *
 * Built by tests/fuzz/run against build-fuzz/libproto.a.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "commands.h"
#include "text.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

#define FIELD_SEP 0x1E   /* separates the fields of form 2 */

/* Is [p, p+n] (the value and its terminating NUL) inside the frame's store? */
static int
in_store(const struct wire_msg *m, const char *p, size_t n)
{
	const char *lo = m->store, *hi;
	size_t total = 0;
	uint16_t i;

	for (i = 0; i < m->nfields; i++)
		total += (size_t)m->f[i].len + 1;
	hi = lo + total;
	return p >= lo && p < hi && n < (size_t)(hi - p);
}

static void
check_args(const struct wire_msg *m, const struct cmd_spec *spec,
           const struct cmd_args *a)
{
	const struct opt_spec *o;
	size_t i, k, nth;

	CHECK(a->spec == spec);
	CHECK(a->noperands >= spec->min_operands);
	CHECK(a->noperands <= spec->max_operands);
	CHECK(a->noperands <= CMD_MAX_OPERANDS);
	CHECK(a->ngiven <= CMD_MAX_GIVEN);
	for (i = 0; i < a->noperands; i++) {
		size_t n = strlen(a->operand[i]);

		CHECK(in_store(m, a->operand[i], n));
		CHECK(n <= CMD_MAX_ARG);
	}
	for (i = 0; i < a->ngiven; i++) {
		const struct cmd_given *g = &a->given[i];

		CHECK(g->opt != NULL && cmd_opt(spec, g->opt->name) == g->opt);
		CHECK(g->len <= CMD_MAX_ARG);
		CHECK(g->value != NULL && g->value[g->len] == '\0');
		if (g->opt->kind == OPT_FLAG)
			CHECK(g->len == 0);
		if (g->len > 0)
			CHECK(in_store(m, g->value, g->len));
		if (g->opt->kind != OPT_FILE)
			CHECK(memchr(g->value, '\0', g->len) == NULL);
		if (g->opt->kind != OPT_MULTI)
			for (k = i + 1; k < a->ngiven; k++)
				CHECK(a->given[k].opt != g->opt);
	}
	/* The accessors see what cmd_parse recorded, in order. */
	for (o = spec->opts; o->name != NULL; o++) {
		const struct cmd_given *first = NULL;
		const char *v;
		size_t len = (size_t)-1;

		nth = 0;
		for (i = 0; i < a->ngiven; i++) {
			if (a->given[i].opt != o)
				continue;
			if (first == NULL)
				first = &a->given[i];
			CHECK(cmd_arg_nth(a, o->name, nth) == a->given[i].value);
			nth++;
		}
		CHECK(cmd_arg_nth(a, o->name, nth) == NULL);
		v = cmd_arg_len(a, o->name, &len);
		CHECK(cmd_flag(a, o->name) == (first != NULL));
		if (first == NULL) {
			CHECK(v == NULL && cmd_arg(a, o->name) == NULL);
		} else {
			CHECK(v == first->value && len == first->len);
			CHECK(cmd_arg(a, o->name) == first->value);
		}
	}
}

/* command_dispatch's checks, without the peer, the daemon and the handler. */
static void
dispatch(const struct wire_msg *m)
{
	const char *argv[WIRE_MAX_FIELDS];
	size_t lens[WIRE_MAX_FIELDS];
	const struct cmd_spec *spec;
	const char *noun, *verb;
	struct cmd_args args;
	char err[512], n[40], v[40];
	int argc, i;

	if (m->nfields < 2 || (noun = wire_field_str(m, 0)) == NULL ||
	    (verb = wire_field_str(m, 1)) == NULL)
		return;
	if ((spec = cmd_lookup(noun, verb)) == NULL) {
		text_sanitize(noun, strlen(noun), n, sizeof(n));
		text_sanitize(verb, strlen(verb), v, sizeof(v));
		CHECK(strlen(n) < sizeof(n) && strlen(v) < sizeof(v));
		return;
	}
	CHECK(strcmp(spec->noun, noun) == 0);
	CHECK(spec->verb == NULL ? verb[0] == '\0' :
	    strcmp(spec->verb, verb) == 0);
	CHECK((size_t)spec->id < cmd_table_len && &cmd_table[spec->id] == spec);

	argc = (int)m->nfields - 2;
	for (i = 0; i < argc; i++) {
		argv[i] = m->f[i + 2].ptr;
		lens[i] = m->f[i + 2].len;
	}
	err[0] = '\0';
	if (cmd_parse(spec, argc, argv, lens, &args, err, sizeof(err)) < 0) {
		CHECK(err[0] != '\0' && strlen(err) < sizeof(err));
		return;
	}
	check_args(m, spec, &args);
}

/* Re-encode m; the result must be the original frame byte for byte, and
 * decode to the same fields. */
static void
round_trip(const struct wire_msg *m, const uint8_t *frame, size_t used)
{
	struct wire_enc e;
	struct wire_msg again;
	struct buf out;
	size_t used2 = 0;
	char err[128];
	uint16_t i;

	buf_init(&out, WIRE_HEADER + WIRE_MAX_FRAME);
	wire_begin(&e, &out, (enum wire_type)m->type);
	for (i = 0; i < m->nfields; i++)
		wire_add(&e, m->f[i].ptr, m->f[i].len);
	CHECK(wire_finish(&e) == 0);
	CHECK(out.len == used);
	CHECK(memcmp(buf_head(&out), frame, used) == 0);

	CHECK(wire_decode(buf_head(&out), out.len, &again, &used2, err,
	    sizeof(err)) == WIRE_FRAME);
	CHECK(used2 == used);
	CHECK(again.type == m->type && again.nfields == m->nfields);
	for (i = 0; i < m->nfields; i++) {
		CHECK(again.f[i].len == m->f[i].len);
		CHECK(memcmp(again.f[i].ptr, m->f[i].ptr, m->f[i].len + 1) == 0);
	}
	wire_msg_free(&again);
	buf_free(&out);
}

static void
check_frame(const struct wire_msg *m, const uint8_t *frame, size_t used)
{
	struct wire_msg part;
	size_t total = 0, used2 = 0;
	char err[128];
	enum wire_decode rc;
	uint16_t i;

	CHECK(used >= WIRE_HEADER + WIRE_MIN_BODY);
	CHECK(used - WIRE_HEADER <= WIRE_MAX_FRAME);
	CHECK(m->nfields <= WIRE_MAX_FIELDS);
	CHECK(m->type == WIRE_REQUEST || m->type == WIRE_DATA ||
	    m->type == WIRE_END || m->type == WIRE_RECORD ||
	    m->type == WIRE_SECRET || m->type == WIRE_PROGRESS ||
	    m->type == WIRE_STATUS || m->type == WIRE_PLAN);
	for (i = 0; i < m->nfields; i++) {
		CHECK(m->f[i].ptr != NULL && m->f[i].ptr[m->f[i].len] == '\0');
		CHECK((wire_field_str(m, i) != NULL) ==
		    (memchr(m->f[i].ptr, '\0', m->f[i].len) == NULL));
		total += 4 + (size_t)m->f[i].len;
	}
	CHECK(wire_field_str(m, m->nfields) == NULL);
	CHECK(WIRE_HEADER + WIRE_MIN_BODY + total == used);

	/* A frame cut short is never a frame. */
	rc = wire_decode(frame, used - 1, &part, &used2, err, sizeof(err));
	CHECK(rc == WIRE_NEED_MORE || rc == WIRE_BAD_VERSION);
	CHECK(part.f == NULL && part.store == NULL);
	rc = wire_decode(frame, used / 2, &part, &used2, err, sizeof(err));
	CHECK(rc == WIRE_NEED_MORE || rc == WIRE_BAD_VERSION);

	round_trip(m, frame, used);
	if (m->type == WIRE_REQUEST)
		dispatch(m);
}

/* Form 1: the input is a stream of frames. */
static void
fuzz_stream(const uint8_t *data, size_t size)
{
	struct wire_msg m;
	size_t off = 0, used;
	char err[128];
	enum wire_decode rc;

	for (;;) {
		used = 0;
		err[0] = '\0';
		rc = wire_decode(data + off, size - off, &m, &used, err,
		    sizeof(err));
		if (rc != WIRE_FRAME) {
			CHECK(rc == WIRE_NEED_MORE || rc == WIRE_BAD ||
			    rc == WIRE_BAD_VERSION);
			CHECK(m.f == NULL && m.store == NULL && m.nfields == 0);
			CHECK(rc == WIRE_NEED_MORE ||
			    (err[0] != '\0' && strlen(err) < sizeof(err)));
			break;
		}
		CHECK(used > 0 && used <= size - off);
		check_frame(&m, data + off, used);
		wire_msg_free(&m);
		off += used;
	}
}

/* Form 2: the input is the fields of one request, FIELD_SEP between them. */
static void
fuzz_fields(const uint8_t *data, size_t size)
{
	const uint8_t *p, *end = data + size, *sep;
	struct wire_enc e;
	struct wire_msg m;
	struct buf out;
	size_t nf = 0, n, used = 0;
	char err[128];

	buf_init(&out, WIRE_HEADER + WIRE_MAX_FRAME);
	wire_begin(&e, &out, WIRE_REQUEST);
	for (p = data;; p = sep + 1) {
		sep = memchr(p, FIELD_SEP, (size_t)(end - p));
		n = sep != NULL ? (size_t)(sep - p) : (size_t)(end - p);
		wire_add(&e, p, n);
		nf++;
		if (sep == NULL)
			break;
	}
	if (wire_finish(&e) != 0) {
		/* Only the field count can be exceeded by a fuzzer-sized input,
		 * and a refused frame leaves nothing behind. */
		CHECK(nf > WIRE_MAX_FIELDS && out.len == 0);
		goto out;
	}
	CHECK(nf <= WIRE_MAX_FIELDS);
	CHECK(wire_decode(buf_head(&out), out.len, &m, &used, err,
	    sizeof(err)) == WIRE_FRAME);
	CHECK(used == out.len && m.type == WIRE_REQUEST && m.nfields == nf);
	for (p = data, n = 0; n < nf; n++) {
		CHECK(memcmp(m.f[n].ptr, p, m.f[n].len) == 0);
		if (n + 1 < nf)
			p += m.f[n].len + 1;
	}
	check_frame(&m, (const uint8_t *)buf_head(&out), used);
	wire_msg_free(&m);
out:
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_stream(data, size);
	fuzz_fields(data, size);
	return 0;
}
