/*
 * family_dovecot.c - Dovecot's lib-imap (libdovecot, 2.3) as a contender
 * for the IMAP benchmarks (mr_bench.h).
 *
 * Both contenders read the server's bytes the way Dovecot's own IMAP client
 * does (lib-imap-client's imapc-connection.c, under the imapc storage
 * backend that migrations with dsync/doveadm use):
 *
 *   - one imap_parser over one istream, created with
 *     imap_parser_create(input, NULL, SIZE_MAX, NULL): no output stream
 *     (a client never sends "+ OK"), imapc's default max line length
 *     (IMAPC_DEFAULT_MAX_LINE_LENGTH = SIZE_MAX) and no params;
 *   - the tag with imap_parser_read_word();
 *   - "+": the rest of the line with i_stream_next_line(), as imapc does;
 *   - a tag other than "*" and "+": the rest of the line with
 *     i_stream_next_line() too, then the status word (OK/NO/BAD) and the
 *     "[resp-text-code]" brackets checked.  imapc never gives a tagged
 *     response to imap_parser_read_args(); neither do we;
 *   - "*": imap_parser_read_args(parser, 0, FLAGS, &args) with imapc's flags
 *     for server responses, LITERAL_SIZE | ATOM_ALLCHARS | LITERAL8 |
 *     SERVER_TEXT (0xc9: read from the call in the installed
 *     libdovecot-storage.so 2.3.19.1).  LITERAL_SIZE makes the parser stop at
 *     each literal and return its size; imapc then calls
 *     imap_parser_read_last_literal() and reads the args again, so that the
 *     parser copies the literal into its pool as an IMAP_ARG_STRING.  We do
 *     the same for every literal (see "Unlike imapc" below), then skip the
 *     CRLF (imapc does that itself; the parser leaves it in the stream), then
 *     check that the response starts with an atom (a name, or a number and a
 *     name), as imapc does before it hands the args to its callbacks;
 *   - imap_parser_reset() after every response: it p_clear()s the parser's
 *     alloconly pool, which keeps only its first (1 KiB) block and frees
 *     the others, so every larger response mallocs (zeroed) blocks again:
 *     that is Dovecot's parser as imapc runs it, not something added here;
 *   - every response inside T_BEGIN/T_END, as
 *     imapc_connection_input_pending() wraps each one in t_push()/t_pop().
 *
 * "dovecot-decode" also decodes, in every untagged FETCH, ENVELOPE with
 * imap_envelope_parse_args() and BODYSTRUCTURE (and BODY, not counted:
 * decoded is ENVELOPEs + BODYSTRUCTUREs, as for mailrig) with
 * imap_bodystructure_parse_args(args, pool, &parts, &error) with
 * parts = NULL, which builds the struct message_part tree (with its
 * message_part_data, and the ENVELOPE of every message/rfc822 part) from
 * the parsed args; this is what imapc does with a BODYSTRUCTURE
 * (imapc-mail-fetch.c, imapc_args_to_bodystructure()), no string round
 * trip.  Their memory comes from one alloconly pool, p_clear()ed after each
 * FETCH response (imapc creates and unrefs a 1 KiB alloconly pool per
 * BODYSTRUCTURE instead: one malloc and free more per message than here).
 *
 * Unlike imapc: imapc writes a FETCH BODY[...] literal larger than 32 KiB
 * (IMAPC_MAX_INLINE_LITERAL_SIZE) to a temporary file instead of letting
 * the parser copy it; here every literal is copied into the parser's pool
 * (4 literals of the 300-message capture are larger).  imapc also wants
 * numeric tags; any tag is accepted here.
 *
 * The whole session is one istream (i_stream_create_from_data over
 * c->server), made once in setup and seeked back to 0 for each pass, as
 * though a client had read everything the server sent.
 *
 * Counts: responses = tagged + untagged + continuation responses; bytes =
 * the sizes of all literals (literal8 included), whatever they carry;
 * decoded = 0, or ENVELOPEs + BODYSTRUCTUREs decoded.
 *
 * Any parse or decode error fails the run with Dovecot's message and the
 * stream offset.
 */
#include "mr_bench.h"

/* Dovecot's headers (-isystem /usr/include/dovecot, config.h included
 * first by the compiler's -include). */
#include "lib.h"
#include "istream.h"
#include "imap-arg.h"
#include "imap-parser.h"
#include "imap-envelope.h"
#include "imap-bodystructure.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* imapc-connection.c, imapc_connection_read_line_more() */
#define DC_SERVER_FLAGS                                                              \
    (IMAP_PARSE_FLAG_LITERAL_SIZE | IMAP_PARSE_FLAG_ATOM_ALLCHARS |                  \
     IMAP_PARSE_FLAG_LITERAL8 | IMAP_PARSE_FLAG_SERVER_TEXT)
_Static_assert(DC_SERVER_FLAGS == 0xc9, "imapc's flags in Dovecot 2.3.19");

typedef struct dc_state {
    struct istream *input;
    struct imap_parser *parser;
    pool_t decode_pool; /* NULL for the generic parse */
} dc_state;

/* lib_init() once per process; lib_deinit() never (see dc_teardown). */
static void dc_lib_init(void)
{
    if (!lib_is_initialized())
        lib_init();
}

static void dc_teardown(void *arg)
{
    dc_state *st = arg;
    if (!st)
        return;
    if (st->parser)
        imap_parser_unref(&st->parser);
    if (st->input)
        i_stream_unref(&st->input);
    if (st->decode_pool)
        pool_unref(&st->decode_pool);
    i_free(st);
    /* No lib_deinit(): libdovecot's lib_init() asserts that it runs once,
     * and lib_deinit() runs the atexit callbacks and frees the data stack
     * and the event and failure machinery for good, so a second setup() in
     * the same process would have no library.  The driver sets one
     * contender up per process; what lib_init() allocated stays reachable
     * until exit. */
}

static void *dc_setup_common(const mr_bench_corpus *c, int decode, char *err, size_t errlen)
{
    if (strcmp(c->protocol, "imap") != 0) {
        snprintf(err, errlen, "Dovecot's lib-imap parses IMAP, not %s", c->protocol);
        return NULL;
    }
    dc_lib_init();
    dc_state *st = i_new(dc_state, 1);
    st->input = i_stream_create_from_data(c->server, c->server_len);
    (void)i_stream_read(st->input); /* a data stream has it all already */
    st->parser = imap_parser_create(st->input, NULL, SIZE_MAX, NULL);
    if (decode)
        st->decode_pool = pool_alloconly_create("mr-bench imap decode", 1024);
    return st;
}

static void *dc_setup(const mr_bench_corpus *c, char *err, size_t errlen)
{
    return dc_setup_common(c, 0, err, errlen);
}

static void *dc_setup_decode(const mr_bench_corpus *c, char *err, size_t errlen)
{
    return dc_setup_common(c, 1, err, errlen);
}

/* ------------------------------------------------------------ one response */

typedef struct dc_ctx {
    dc_state *st;
    mr_bench_result *out;
    uoff_t start; /* stream offset of the response */
    char *err;
    size_t errlen;
} dc_ctx;

static int dc_fail(dc_ctx *x, const char *what, const char *msg)
{
    snprintf(x->err, x->errlen, "%s: %s at stream offset %llu (response at offset %llu)", what,
             msg ? msg : "(no message)", (unsigned long long)x->st->input->v_offset,
             (unsigned long long)x->start);
    return -1;
}

static int dc_parser_fail(dc_ctx *x)
{
    enum imap_parser_error code;
    const char *msg = imap_parser_get_error(x->st->parser, &code);
    return dc_fail(x, "imap_parser_read_args", msg);
}

static int is_number(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* One FETCH's msg-att list: decode ENVELOPE, BODYSTRUCTURE and BODY. */
static int dc_decode_fetch(dc_ctx *x, const struct imap_arg *arg)
{
    const struct imap_arg *list;
    if (!imap_arg_get_list(arg, &list))
        return dc_fail(x, "FETCH", "the message data is not a list");
    pool_t pool = x->st->decode_pool;
    int rc = 0;
    while (rc == 0 && !IMAP_ARG_IS_EOL(list)) {
        const char *key, *error = NULL;
        if (!imap_arg_get_atom(list, &key)) {
            rc = dc_fail(x, "FETCH", "an item name is not an atom");
            break;
        }
        list++;
        /* The parser splits BODY[HEADER.FIELDS (A B)] into the atom
         * "BODY[HEADER.FIELDS", a list and the atom "]": skip to the atom
         * that closes the section. */
        if (strchr(key, '[') && !strchr(key, ']')) {
            const char *s = NULL;
            while (!IMAP_ARG_IS_EOL(list) && !(imap_arg_get_atom(list, &s) && s[0] == ']'))
                list++;
            if (IMAP_ARG_IS_EOL(list)) {
                rc = dc_fail(x, "FETCH", "a section without ']'");
                break;
            }
            list++;
        }
        if (IMAP_ARG_IS_EOL(list)) {
            rc = dc_fail(x, "FETCH", "an item without a value");
            break;
        }
        if (strcasecmp(key, "ENVELOPE") == 0) {
            const struct imap_arg *env;
            struct message_part_envelope *envelope = NULL;
            if (!imap_arg_get_list(list, &env))
                rc = dc_fail(x, "ENVELOPE", "not a list");
            else if (!imap_envelope_parse_args(env, pool, &envelope, &error))
                rc = dc_fail(x, "imap_envelope_parse_args", error);
            else
                x->out->decoded++;
        } else if (strcasecmp(key, "BODYSTRUCTURE") == 0 || strcasecmp(key, "BODY") == 0) {
            const struct imap_arg *body;
            struct message_part *parts = NULL;
            if (!imap_arg_get_list(list, &body))
                rc = dc_fail(x, key, "not a list");
            else if (imap_bodystructure_parse_args(body, pool, &parts, &error) < 0)
                rc = dc_fail(x, "imap_bodystructure_parse_args", error);
            else if (key[4] != '\0') /* BODY is decoded, not counted */
                x->out->decoded++;
        }
        list++;
    }
    p_clear(pool);
    return rc;
}

static int dc_untagged(dc_ctx *x)
{
    dc_state *st = x->st;
    const struct imap_arg *args;
    int ret;
    /* Read the args; at each literal the parser stops and gives its size,
     * then reads it whole into its pool when asked to. */
    for (;;) {
        ret = imap_parser_read_args(st->parser, 0, DC_SERVER_FLAGS, &args);
        if (ret == -1)
            return dc_parser_fail(x);
        if (ret == -2)
            return dc_fail(x, "imap_parser_read_args", "the stream ended inside a response");
        if (ret == 0)
            return dc_fail(x, "untagged", "no data after '*'");
        uoff_t size;
        if (!imap_parser_get_literal_size(st->parser, &size))
            break;
        x->out->bytes += size;
        imap_parser_read_last_literal(st->parser);
    }
    /* The parser leaves the line's end in the stream. */
    size_t n;
    const unsigned char *d = i_stream_get_data(st->input, &n);
    if (n >= 2 && d[0] == '\r' && d[1] == '\n')
        i_stream_skip(st->input, 2);
    else if (n >= 1 && d[0] == '\n')
        i_stream_skip(st->input, 1);
    else
        return dc_fail(x, "untagged", "no end of line after the response");

    const char *name;
    if (!imap_arg_get_atom(args, &name))
        return dc_fail(x, "untagged", "the response does not start with an atom");
    args++;
    int numbered = is_number(name);
    if (numbered) {
        if (!imap_arg_get_atom(args, &name))
            return dc_fail(x, "untagged", "no atom after the number");
        args++;
    }
    if (st->decode_pool && numbered && strcasecmp(name, "FETCH") == 0)
        return dc_decode_fetch(x, args);
    return 0;
}

static int dc_continuation(dc_ctx *x)
{
    if (i_stream_next_line(x->st->input) == NULL)
        return dc_fail(x, "continuation", "the stream ended inside the line");
    return 0;
}

static int dc_tagged(dc_ctx *x)
{
    const char *line = i_stream_next_line(x->st->input);
    if (line == NULL)
        return dc_fail(x, "tagged", "the stream ended inside the line");
    /* imapc keeps a copy on the data stack, splits the status word from
     * the text and looks at the resp-text-code. */
    char *copy = t_strdup_noconst(line);
    char *text = strchr(copy, ' ');
    if (text)
        *text++ = '\0';
    else
        text = copy + strlen(copy);
    if (strcasecmp(copy, "OK") != 0 && strcasecmp(copy, "NO") != 0 &&
        strcasecmp(copy, "BAD") != 0)
        return dc_fail(x, "tagged", "the status is not OK, NO or BAD");
    if (text[0] == '[' && strchr(text, ']') == NULL)
        return dc_fail(x, "tagged", "missing ']' in resp-text");
    return 0;
}

static int dc_response(dc_ctx *x)
{
    const char *tag = imap_parser_read_word(x->st->parser);
    if (tag == NULL)
        return dc_fail(x, "imap_parser_read_word", "the stream ended inside a tag");
    int rc;
    if (strcmp(tag, "*") == 0)
        rc = dc_untagged(x);
    else if (strcmp(tag, "+") == 0)
        rc = dc_continuation(x);
    else if (tag[0] == '\0')
        rc = dc_fail(x, "imap_parser_read_word", "an empty tag");
    else
        rc = dc_tagged(x);
    imap_parser_reset(x->st->parser);
    if (rc == 0)
        x->out->responses++;
    return rc;
}

/* ------------------------------------------------------------ one pass */

static int dc_run(void *arg, const mr_bench_corpus *c, mr_bench_result *out, char *err,
                  size_t errlen)
{
    dc_state *st = arg;
    (void)c;
    i_stream_seek(st->input, 0);
    imap_parser_reset(st->parser);
    dc_ctx x = {.st = st, .out = out, .err = err, .errlen = errlen};
    while (i_stream_get_data_size(st->input) > 0) {
        int rc;
        x.start = st->input->v_offset;
        T_BEGIN {
            rc = dc_response(&x);
        } T_END;
        if (rc != 0)
            return -1;
    }
    return 0;
}

const mr_bench_contender mr_bench_family[] = {
    {"dovecot", "imap",
     "Dovecot 2.3 lib-imap imap_parser as imapc reads responses (generic args, literals in memory)",
     dc_setup, dc_run, dc_teardown},
    {"dovecot-decode", "imap",
     "Dovecot 2.3 lib-imap, plus imap_envelope_parse_args and imap_bodystructure_parse_args",
     dc_setup_decode, dc_run, dc_teardown},
};
const size_t mr_bench_family_n = sizeof mr_bench_family / sizeof mr_bench_family[0];
const char *const mr_bench_family_name = "dovecot";
