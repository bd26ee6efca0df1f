/*
 * mr_smtp.c - sans-I/O parser of SMTP server replies (see mr_smtp.h).
 *
 * Framing (RFC 5321 4.2, 4.2.1): a reply is zero or more "NNN-text" lines
 * and one final "NNN SP text" or "NNN" line, each ended by CRLF (bare LF
 * accepted, RFC 5321 2.3.8 noted in strict mode).  Every reply is framed
 * alike, whatever the command, so the parser frames first and only then
 * looks at the pending-command queue (mr_pending) to choose the typed
 * decoding: the greeting (RFC 5321 4.2, 4.3.2), EHLO/LHLO keywords
 * (RFC 5321 4.1.1.1; SIZE RFC 1870, AUTH RFC 4954, PIPELINING RFC 2920,
 * CHUNKING/BINARYMIME RFC 3030, SMTPUTF8 RFC 6531, DSN RFC 3461, STARTTLS
 * RFC 3207, ENHANCEDSTATUSCODES RFC 2034), 334 SASL challenges (RFC 4954
 * 4), and enhanced status codes at the start of the text (RFC 3463 2,
 * RFC 2034 4).
 *
 * Work and memory: lines come from mr_linereader, which scans only new
 * bytes, so feeding one byte at a time costs what feeding the whole stream
 * does.  Each line is examined once when it arrives (O(1) in lenient mode,
 * one pass over its text in strict mode) and pushed into mr_store, whose
 * vectors amortise; lines lying whole in the caller's buffer stay there
 * (zero copy) until a feed ends mid-reply, when mr_store_pin() copies them
 * once.  The texts array and the typed results are built in the arena in
 * one pass when the final line arrives.
 *
 * Lenient and strict mode give the same results (events, codes, typed
 * fields); strict mode adds an mr_diag, citing RFC and section, for each
 * deviation it sees.  limits.max_memory bounds the logical size of a reply
 * (see mr_store.h), so MR_E_MEMORY_LIMIT, like every result, comes at the
 * same byte however the input is chunked.
 */
#include "mr_smtp.h"

#include <string.h>

#include "../core/mr_base.h"
#include "../core/mr_base64.h"
#include "../core/mr_cursor.h"
#include "../core/mr_linereader.h"
#include "../core/mr_pending.h"
#include "../core/mr_store.h"

struct mr_smtp_parser {
    mr_parser_base base; /* options, store, line reader, commands sent and not yet answered (RFC 2920 3.1) */
    int greeted;         /* the greeting has been parsed */
    int utf8_txn;        /* the mail transaction's MAIL carried SMTPUTF8 (RFC 6531 3.7.4.1) */
    int after_result;    /* a reply was handed out: reset the store on the next call */
    mr_error fatal;      /* sticky until mr_smtp_reset() */

    /* The reply being assembled; all reset by begin_reply(). */
    mr_error rerr;            /* its first (lowest offset) non-fatal error */
    unsigned first_code;      /* code of its first line that has one */
    int have_code;
    int noise;                /* a lone line without a reply code: answers no command */
    int nonascii;             /* strict: a byte >= 0x80 was seen in a text */
    uint64_t nonascii_at;
    mr_smtp_enhanced enh0;    /* strict: enhanced code of the first line (raw unused) */
    mr_smtp_reply reply;
};

/*
 * Queue entries: the command kind, plus a flag for a command line that
 * carried the SMTPUTF8 parameter (MAIL, VRFY, EXPN: RFC 6531 3.4, 3.7.4),
 * which allows UTF-8 in some replies.
 */
#define Q_CMD_MASK 0x3f
#define Q_SMTPUTF8 0x80
_Static_assert(MR_SMTP__CMD_COUNT <= Q_CMD_MASK + 1, "command kinds must fit Q_CMD_MASK");

/* ---- names ---------------------------------------------------------------- */

static const char *const cmd_names[] = {
#define MR_XX(name, str) str,
    MR_SMTP_CMD_MAP(MR_XX)
#undef MR_XX
};

const char *mr_smtp_cmd_name(mr_smtp_cmd cmd)
{
    return (unsigned)cmd < MR_SMTP__CMD_COUNT ? cmd_names[cmd] : "unknown";
}

/*
 * EHLO keywords: the name as registered, its kind, what its parameters
 * are, and the rule that says a parameterless one has no parameters.
 */
enum param_rule {
    P_ANY,        /* not checked */
    P_NONE,       /* no parameter allowed (ref says where) */
    P_NUMBER_OPT, /* one optional decimal number */
    P_LIST        /* a list of names (AUTH mechanisms) */
};

static const struct ext_def {
    const char *keyword;
    const char *name; /* mr_smtp_ext_name() */
    unsigned char rule;
    const char *ref;
} ext_defs[] = {
    [MR_SMTP_EXT_OTHER] = {"", "other", P_ANY, NULL},
    [MR_SMTP_EXT_SIZE] = {"SIZE", "size", P_NUMBER_OPT, "RFC 1870 3"},
    [MR_SMTP_EXT_AUTH] = {"AUTH", "auth", P_LIST, "RFC 4954 3"},
    [MR_SMTP_EXT_8BITMIME] = {"8BITMIME", "8bitmime", P_NONE, "RFC 6152 2"},
    [MR_SMTP_EXT_PIPELINING] = {"PIPELINING", "pipelining", P_NONE, "RFC 2920 2"},
    [MR_SMTP_EXT_CHUNKING] = {"CHUNKING", "chunking", P_ANY, NULL},
    [MR_SMTP_EXT_BINARYMIME] = {"BINARYMIME", "binarymime", P_NONE, "RFC 3030 3"},
    [MR_SMTP_EXT_SMTPUTF8] = {"SMTPUTF8", "smtputf8", P_NONE, "RFC 6531 3.1"},
    [MR_SMTP_EXT_DSN] = {"DSN", "dsn", P_NONE, "RFC 3461 2"},
    [MR_SMTP_EXT_STARTTLS] = {"STARTTLS", "starttls", P_NONE, "RFC 3207 2"},
    [MR_SMTP_EXT_ENHANCEDSTATUSCODES] = {"ENHANCEDSTATUSCODES", "enhancedstatuscodes", P_NONE,
                                         "RFC 2034 3"},
    [MR_SMTP_EXT_DELIVERBY] = {"DELIVERBY", "deliverby", P_NUMBER_OPT, "RFC 2852 4"},
    [MR_SMTP_EXT_REQUIRETLS] = {"REQUIRETLS", "requiretls", P_ANY, NULL},
    [MR_SMTP_EXT_VRFY] = {"VRFY", "vrfy", P_ANY, NULL},
    [MR_SMTP_EXT_ETRN] = {"ETRN", "etrn", P_ANY, NULL},
    [MR_SMTP_EXT_EXPN] = {"EXPN", "expn", P_ANY, NULL},
    [MR_SMTP_EXT_HELP] = {"HELP", "help", P_ANY, NULL},
};

#define N_EXT (sizeof ext_defs / sizeof ext_defs[0])

const char *mr_smtp_ext_name(mr_smtp_ext e)
{
    return (unsigned)e < N_EXT ? ext_defs[e].name : "unknown";
}

/* RFC 5321 4.2.1: the first digit gives the severity. */
const char *mr_smtp_severity(unsigned code)
{
    switch (code / 100) {
    case 2: return "positive-completion";
    case 3: return "positive-intermediate";
    case 4: return "transient-negative";
    case 5: return "permanent-negative";
    }
    return "unknown";
}

/* ---- commands --------------------------------------------------------------- */

/*
 * RFC 5321 4.1.1 (verbs are case-insensitive, RFC 5321 2.4), RFC 2033
 * (LHLO), RFC 3030 (BDAT), RFC 3207 (STARTTLS), RFC 4954 (AUTH).  The verb
 * must be followed by SP, HTAB, the line end or nothing.  A line holding
 * only "." is the end of the message after DATA (RFC 5321 4.1.1.4).
 */
mr_smtp_cmd mr_smtp_cmd_classify(const uint8_t *line, size_t len)
{
    static const struct {
        const char *verb;
        mr_smtp_cmd cmd;
    } verbs[] = {
        {"EHLO", MR_SMTP_EHLO}, {"HELO", MR_SMTP_HELO}, {"LHLO", MR_SMTP_LHLO},
        {"MAIL", MR_SMTP_MAIL}, {"RCPT", MR_SMTP_RCPT}, {"DATA", MR_SMTP_DATA},
        {"BDAT", MR_SMTP_BDAT}, {"RSET", MR_SMTP_RSET}, {"VRFY", MR_SMTP_VRFY},
        {"EXPN", MR_SMTP_EXPN}, {"HELP", MR_SMTP_HELP}, {"NOOP", MR_SMTP_NOOP},
        {"QUIT", MR_SMTP_QUIT}, {"STARTTLS", MR_SMTP_STARTTLS}, {"AUTH", MR_SMTP_AUTH},
    };
    mr_cursor c;
    mr_span verb;
    uint8_t next;
    if (!line || len == 0)
        return MR_SMTP_OTHER;
    mr_cur_init(&c, line, len);
    if (mr_cur_accept(&c, '.')) {
        mr_cur_accept(&c, '\r');
        mr_cur_accept(&c, '\n');
        return mr_cur_empty(&c) ? MR_SMTP_DATA_END : MR_SMTP_OTHER;
    }
    mr_cur_take_class(&c, MR_C_ALPHA, &verb);
    if (mr_cur_peek(&c, &next) && next != ' ' && next != '\t' && next != '\r' && next != '\n')
        return MR_SMTP_OTHER;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (mr_span_eq_ci(verb, verbs[i].verb))
            return verbs[i].cmd;
    return MR_SMTP_OTHER;
}

/* ---- lifecycle ---------------------------------------------------------------- */

static void begin_reply(mr_smtp_parser *p)
{
    mr_store_reset(&p->base.st);
    memset(&p->rerr, 0, sizeof p->rerr);
    memset(&p->reply, 0, sizeof p->reply);
    memset(&p->enh0, 0, sizeof p->enh0);
    p->first_code = 0;
    p->have_code = 0;
    p->noise = 0;
    p->nonascii = 0;
    p->nonascii_at = 0;
    p->after_result = 0;
}

mr_smtp_parser *mr_smtp_new(const mr_options *opt)
{
    mr_smtp_parser *p = mr_base_new(opt, sizeof *p);
    if (p)
        mr_smtp_reset(p);
    return p;
}

void mr_smtp_free(mr_smtp_parser *p) { mr_base_free(p); }

void mr_smtp_reset(mr_smtp_parser *p)
{
    mr_lr_reset(&p->base.lr);
    mr_pending_clear(&p->base.pend);
    begin_reply(p);
    p->greeted = 0;
    p->utf8_txn = 0;
    memset(&p->fatal, 0, sizeof p->fatal);
}

static void set_fatal(mr_smtp_parser *p, mr_errcode code, uint64_t off, const char *detail)
{
    p->fatal.code = code;
    p->fatal.offset = off;
    p->fatal.detail = detail;
}

static const char *store_detail(mr_errcode e)
{
    switch (e) {
    case MR_E_TOO_MANY_LINES: return "a reply has more lines than limits.max_lines";
    case MR_E_MEMORY_LIMIT: return "a reply needs more memory than limits.max_memory";
    default: return "the allocator returned NULL while storing a reply";
    }
}

/* A store operation failed: turn its reason into the sticky error. */
static void fail_store(mr_smtp_parser *p, uint64_t off)
{
    mr_errcode e = p->base.st.err != MR_E_OK ? p->base.st.err : MR_E_NO_MEMORY;
    set_fatal(p, e, off, store_detail(e));
}

/*
 * Queue the command the next unanswered reply belongs to.  A queue that
 * cannot grow (limits.max_pending, or the allocator) is a fatal error of
 * the stream as well as this call's result: replies can no longer be
 * matched to commands.
 */
static int push_cmd(mr_smtp_parser *p, mr_smtp_cmd cmd, uint8_t flags)
{
    if ((unsigned)cmd >= MR_SMTP__CMD_COUNT)
        return MR_E_USAGE;
    if (p->fatal.code != MR_E_OK)
        return p->fatal.code;
    int rc = mr_pending_push(&p->base.pend, (uint8_t)((unsigned)cmd | flags));
    if (rc == MR_E_TOO_MANY_PENDING)
        set_fatal(p, MR_E_TOO_MANY_PENDING, p->base.lr.offset, "more commands queued than limits.max_pending");
    else if (rc != 0)
        set_fatal(p, (mr_errcode)rc, p->base.lr.offset, "the allocator returned NULL while queueing a command");
    return rc;
}

int mr_smtp_expect(mr_smtp_parser *p, mr_smtp_cmd cmd) { return push_cmd(p, cmd, 0); }

/*
 * 1 when a MAIL, VRFY or EXPN line carries the SMTPUTF8 parameter: a word
 * after the verb and its first argument (the reverse-path, the string),
 * case-insensitive (RFC 6531 3.4 and 3.7.4.2).
 */
static int has_smtputf8(const uint8_t *line, size_t len)
{
    mr_span all = {line, line ? len : 0}, w;
    mr_cursor c = mr_cur_from_span(mr_span_strip_eol(all));
    mr_cur_skip_space(&c);
    for (size_t word = 0; mr_cur_get_word(&c, &w); word++) {
        if (word >= 2 && mr_span_eq_ci(w, "SMTPUTF8"))
            return 1;
        mr_cur_skip_space(&c);
    }
    return 0;
}

int mr_smtp_expect_line(mr_smtp_parser *p, const uint8_t *line, size_t len)
{
    mr_smtp_cmd cmd = mr_smtp_cmd_classify(line, len);
    uint8_t flags = 0;
    if ((cmd == MR_SMTP_MAIL || cmd == MR_SMTP_VRFY || cmd == MR_SMTP_EXPN) && has_smtputf8(line, len))
        flags = Q_SMTPUTF8;
    return push_cmd(p, cmd, flags);
}

size_t mr_smtp_pending(const mr_smtp_parser *p) { return mr_pending_count(&p->base.pend); }

uint64_t mr_smtp_offset(const mr_smtp_parser *p) { return p->base.lr.offset; }

/* ---- helpers -------------------------------------------------------------------- */

static int strict(const mr_smtp_parser *p) { return p->base.opt.mode == MR_STRICT; }

static void diag(mr_smtp_parser *p, uint64_t off, const char *ref, const char *msg)
{
    mr_store_diag(&p->base.st, off, ref, msg);
}

/* Keep the reply's first non-fatal error: the one at the lowest offset. */
static void reply_error(mr_smtp_parser *p, mr_errcode code, uint64_t off, const char *detail)
{
    if (p->rerr.code != MR_E_OK && p->rerr.offset <= off)
        return;
    p->rerr.code = code;
    p->rerr.offset = off;
    p->rerr.detail = detail;
}

/*
 * Every text span the parser works on runs to the end of its line, so the
 * stream offset of a cursor over it is the line's end offset minus the
 * bytes still ahead: no pointer arithmetic needed.
 */
static uint64_t line_end(const mr_line *l) { return l->offset + l->len; }
static uint64_t cur_off(const mr_line *l, const mr_cursor *c) { return line_end(l) - c->len; }

/* ---- framing (RFC 5321 4.2, 4.2.1) ------------------------------------------------ */

enum line_kind {
    L_CONT,     /* "NNN-text" */
    L_FINAL,    /* "NNN SP text" or "NNN" */
    L_BAD_CODE, /* does not start with three digits */
    L_BAD_SEP   /* three digits, then neither SP nor "-" nor the line end */
};

typedef struct line_info {
    enum line_kind kind;
    unsigned code;  /* 0 for L_BAD_CODE */
    mr_span text;   /* after "NNN-"/"NNN "; after "NNN" for L_BAD_SEP; the whole line for L_BAD_CODE */
    size_t bad_at;  /* L_BAD_CODE: index in the line of the first byte that is not a digit */
} line_info;

/* O(1): looks at no more than the first four bytes. */
static void classify_line(const mr_line *l, line_info *li)
{
    mr_span s = {l->ptr, l->len};
    mr_cursor c = mr_cur_from_span(s);
    uint8_t ch;
    memset(li, 0, sizeof *li);
    if (!mr_cur_get_digits(&c, 3, &li->code)) {
        mr_cursor probe = c;
        li->kind = L_BAD_CODE;
        li->code = 0;
        li->text = s;
        while (li->bad_at < 3 && mr_cur_get_u8(&probe, &ch) && mr_is(ch, MR_C_DIGIT))
            li->bad_at++;
        return;
    }
    if (!mr_cur_peek(&c, &ch)) {
        li->kind = L_FINAL;
    } else if (ch == '-') {
        mr_cur_skip(&c, 1);
        li->kind = L_CONT;
    } else if (ch == ' ') {
        mr_cur_skip(&c, 1);
        li->kind = L_FINAL;
    } else {
        li->kind = L_BAD_SEP;
        li->bad_at = 3;
    }
    li->text = mr_cur_rest(&c);
}

/* RFC 3463 2: 1*3digit without leading zeros (the zero is only noted). */
static int get_subcode(mr_cursor *c, unsigned *v, int *leading_zero)
{
    mr_cursor probe = *c;
    uint8_t first = 0;
    size_t n = 0;
    uint8_t ch;
    while (n < 4 && mr_cur_get_u8(&probe, &ch) && mr_is(ch, MR_C_DIGIT)) {
        if (n == 0)
            first = ch;
        n++;
    }
    if (n < 1 || n > 3)
        return 0;
    if (n > 1 && first == '0')
        *leading_zero = 1;
    return mr_cur_get_digits(c, n, v);
}

/*
 * An enhanced status code at the start of a text (RFC 3463 2, RFC 2034 4):
 * class "." subject "." detail, class 2, 4 or 5, followed by SP (RFC 2034
 * 3 (4)) or the end of the text.  1 when found.
 */
static int parse_enhanced(mr_span text, mr_smtp_enhanced *e, int *leading_zero)
{
    mr_cursor c = mr_cur_from_span(text);
    unsigned k, sub, det;
    int lz = 0;
    memset(e, 0, sizeof *e);
    if (!mr_cur_get_digits(&c, 1, &k) || (k != 2 && k != 4 && k != 5))
        return 0;
    if (!mr_cur_accept(&c, '.') || !get_subcode(&c, &sub, &lz) || !mr_cur_accept(&c, '.') ||
        !get_subcode(&c, &det, &lz))
        return 0;
    if (!mr_cur_empty(&c) && !mr_cur_next_is(&c, ' '))
        return 0;
    e->present = 1;
    e->klass = k;
    e->subject = sub;
    e->detail = det;
    e->raw.ptr = text.ptr;
    e->raw.len = text.len - c.len;
    if (leading_zero)
        *leading_zero = lz;
    return 1;
}

static int same_enhanced(const mr_smtp_enhanced *a, const mr_smtp_enhanced *b)
{
    if (a->present != b->present)
        return 0;
    return !a->present || (a->klass == b->klass && a->subject == b->subject && a->detail == b->detail);
}

/*
 * Strict checks of one line as it arrives: one pass over its text.  The
 * non-ASCII check is decided when the reply is complete (RFC 6531 3.7.4
 * allows UTF-8 in some replies only).
 */
static void check_line(mr_smtp_parser *p, const mr_line *l, const line_info *li)
{
    if (l->eol != 2)
        diag(p, line_end(l), "RFC 5321 2.3.8", "line ends in a bare LF instead of CRLF");
    if (l->len + 2 > 512)
        diag(p, l->offset + 510, "RFC 5321 4.5.3.1.5", "reply line longer than 512 octets with CRLF");
    if (li->kind != L_BAD_CODE) {
        mr_span s = {l->ptr, l->len};
        mr_cursor c = mr_cur_from_span(s);
        uint8_t d1 = 0, d2 = 0;
        mr_cur_get_u8(&c, &d1);
        mr_cur_get_u8(&c, &d2);
        if (d1 < '2' || d1 > '5' || d2 > '5')
            diag(p, l->offset, "RFC 5321 4.2", "reply code outside Reply-code (%x32-35 %x30-35 %x30-39)");
    }
    if (li->kind == L_FINAL && l->len == 3)
        diag(p, line_end(l), "RFC 5321 4.2.1", "no SP after the reply code of the final line");
    else if (li->kind == L_FINAL && l->len == 4 && li->code != 334)
        diag(p, line_end(l), "RFC 5321 4.2", "reply has no text (servers SHOULD NOT send bare codes)");

    /* textstring = 1*(%d09 / %d32-126) */
    mr_cursor c = mr_cur_from_span(li->text);
    mr_span run;
    uint8_t ch;
    int ctl_seen = 0;
    for (;;) {
        mr_cur_take_class(&c, MR_C_TEXT, &run);
        if (!mr_cur_get_u8(&c, &ch))
            break;
        if (ch >= 0x80) {
            if (!p->nonascii) {
                p->nonascii = 1;
                p->nonascii_at = cur_off(l, &c) - 1;
            }
        } else if (!ctl_seen) {
            ctl_seen = 1;
            diag(p, cur_off(l, &c) - 1, "RFC 5321 4.2", "control character in reply text");
        }
    }

    /* RFC 2034 4: the same enhanced code begins every line of a reply. */
    if (li->kind != L_BAD_CODE) {
        mr_smtp_enhanced e;
        parse_enhanced(li->text, &e, NULL);
        if (p->base.st.n_lines == 1)
            p->enh0 = e;
        else if (!same_enhanced(&e, &p->enh0))
            diag(p, line_end(l) - li->text.len, "RFC 2034 4",
                 "lines of one reply carry different enhanced status codes");
    }
}

/* Note the code of a line that has one (RFC 5321 4.2.1). */
static void note_code(mr_smtp_parser *p, const mr_line *l, unsigned code)
{
    if (!p->have_code) {
        p->have_code = 1;
        p->first_code = code;
    } else if (code != p->first_code) {
        p->reply.mixed_codes = 1;
        diag(p, l->offset, "RFC 5321 4.2.1", "codes differ between lines of a multi-line reply");
    }
    p->reply.code = code;
}

/*
 * One line of the current reply.  Returns 1 when it completes the reply, 0
 * when more lines follow, -1 on a fatal error (p->fatal set).
 *
 * A line without a reply code:
 *  - at the start of a reply, it is reported alone as a non-fatal
 *    MR_E_BAD_REPLY_CODE.  It answers no command (every reply begins with
 *    a code, RFC 5321 4.2), so it does not take a command off the pending
 *    queue and is not the greeting: the next well-formed reply still is.
 *  - inside a multi-line reply (after an "NNN-" line), it is kept as a
 *    line of that reply, and the reply goes on until its final line; the
 *    reply is then reported with MR_E_BAD_REPLY_CODE at the first such
 *    line.  The server announced more lines, and a line without a code
 *    cannot be the final line (RFC 5321 4.2.1: the last line begins with
 *    the code and SP), so ending the reply there would turn the real final
 *    line into a reply of its own and shift every later pipelined reply
 *    onto the wrong command (RFC 2920 3.1 relies on one reply per
 *    command).  Text wrapped with a bare LF inside a continuation line is
 *    the common case.  Postfix's SMTP client reads on in the same way.
 * A line with a code but a bad separator ("250\tOK") is taken as the final
 * line: only "-" announces a continuation (RFC 5321 4.2.1).
 */
static int on_line(mr_smtp_parser *p, const mr_line *l)
{
    line_info li;
    classify_line(l, &li);
    if (!mr_store_push_line(&p->base.st, l)) {
        fail_store(p, l->offset);
        return -1;
    }
    if (p->base.st.n_lines == 1)
        p->reply.offset = l->offset;
    p->reply.end = line_end(l) + l->eol;
    if (strict(p))
        check_line(p, l, &li);
    switch (li.kind) {
    case L_BAD_CODE:
        reply_error(p, MR_E_BAD_REPLY_CODE, l->offset + li.bad_at,
                    "line does not start with a three-digit reply code");
        if (p->base.st.n_lines == 1) {
            p->noise = 1;
            return 1;
        }
        return 0;
    case L_BAD_SEP:
        reply_error(p, MR_E_BAD_SEPARATOR, l->offset + 3, "reply code not followed by SP, '-' or the line end");
        note_code(p, l, li.code);
        return 1;
    case L_CONT:
        note_code(p, l, li.code);
        return 0;
    case L_FINAL:
        note_code(p, l, li.code);
        return 1;
    }
    return 0;
}

/* ---- typed decoding ------------------------------------------------------------------- */

/* RFC 5321 4.1.2 Domain (LDH labels; RFC 6531 3.7.1 keeps them ASCII) or address-literal. */
static int domain_ok(mr_span d)
{
    mr_cursor c = mr_cur_from_span(d);
    mr_span label, inner;
    if (mr_cur_accept(&c, '[')) {
        if (!mr_cur_take_until(&c, ']', &inner) || inner.len == 0)
            return 0;
        mr_cur_skip(&c, 1);
        return mr_cur_empty(&c);
    }
    for (;;) {
        uint8_t first, last = 0;
        if (!mr_cur_peek(&c, &first) || !mr_is(first, MR_C_ALPHA | MR_C_DIGIT))
            return 0;
        mr_cur_take_class(&c, MR_C_KEYW, &label); /* ALPHA DIGIT "-" */
        mr_cursor lc = mr_cur_from_span(label);
        while (mr_cur_get_u8(&lc, &last))
            ;
        if (last == '-')
            return 0;
        if (mr_cur_empty(&c))
            return 1;
        if (!mr_cur_accept(&c, '.'))
            return 0;
    }
}

/*
 * The server's name: the first word of the first line's text (RFC 5321
 * 4.2 Greeting, 4.1.1.1 ehlo-ok-rsp), after the enhanced status code if
 * the server put one first ("554 5.7.1 mx.example.com ...").  With check
 * (the grammar requires the domain), strict mode notes a missing or
 * malformed name, an enhanced code or extra SP before it.
 */
static void decode_domain(mr_smtp_parser *p, mr_smtp_reply *r, int check, const char *ref,
                          const char *missing, const char *bad)
{
    mr_cursor c = mr_cur_from_span(r->texts[0]);
    const mr_line *l = &r->lines[0];
    uint64_t text_at = cur_off(l, &c);
    if (r->enhanced.present) {
        mr_cur_skip(&c, r->enhanced.raw.len);
        if (check)
            diag(p, text_at, ref, "an enhanced status code stands where the domain belongs");
        mr_cur_accept(&c, ' ');
        text_at = cur_off(l, &c);
    }
    size_t sp = mr_cur_skip_space(&c);
    uint64_t at = cur_off(l, &c);
    int found = mr_cur_get_word(&c, &r->domain);
    if (!check)
        return;
    if (!found) {
        diag(p, at, ref, missing);
        return;
    }
    if (sp > 0)
        diag(p, text_at, ref, "more than one SP between the reply code and the domain");
    if (strict(p) && !domain_ok(r->domain))
        diag(p, at, ref, bad);
}

/* RFC 5321 4.2 Greeting, 4.3.2 (220, or 554 / 421 to refuse). */
static void decode_greeting(mr_smtp_parser *p, mr_smtp_reply *r)
{
    if (r->code != 220 && r->code != 421 && r->code != 554)
        diag(p, r->offset, "RFC 5321 4.3.2", "greeting code is not 220, 421 or 554");
    decode_domain(p, r, r->code == 220, "RFC 5321 4.2", "220 greeting names no domain",
                  "greeting domain is neither a Domain nor an address-literal");
}

/* Does text look like an ehlo-line (RFC 5321 4.1.1.1), or its "KEYWORD=" legacy form? */
static int looks_like_ehlo_line(mr_span text)
{
    mr_cursor c = mr_cur_from_span(text);
    mr_span kw;
    uint8_t ch;
    if (!mr_cur_peek(&c, &ch) || !mr_is(ch, MR_C_ALPHA | MR_C_DIGIT))
        return 0;
    mr_cur_take_class(&c, MR_C_KEYW, &kw);
    return mr_cur_empty(&c) || mr_cur_next_is(&c, ' ') || mr_cur_next_is(&c, '=');
}

/* Keyword matching is case-insensitive (RFC 5321 4.1.1.1). */
static mr_smtp_ext lookup_ext(mr_span name)
{
    for (size_t i = 1; i < N_EXT; i++)
        if (mr_span_eq_ci(name, ext_defs[i].keyword))
            return (mr_smtp_ext)i;
    return MR_SMTP_EXT_OTHER;
}

/* Stream offset of a cursor over args, which starts at stream offset args_at. */
static uint64_t args_off(mr_span args, uint64_t args_at, const mr_cursor *c)
{
    return args_at + (args.len - c->len);
}

/*
 * Split kw->args (at stream offset args_at) at runs of SP/HTAB into an
 * arena array.  Strict mode notes separators other than one SP and bytes
 * outside ehlo-param = 1*(%d33-126) (RFC 5321 4.1.1.1).  1 ok, 0 store
 * failure.
 */
static int split_params(mr_smtp_parser *p, mr_smtp_keyword *kw, uint64_t args_at)
{
    mr_cursor c = mr_cur_from_span(kw->args);
    mr_span w, sep;
    size_t n = 0;
    int sep_diag = 0, char_diag = 0;
    for (;;) {
        uint64_t w_at = args_off(kw->args, args_at, &c);
        if (!mr_cur_get_word(&c, &w))
            break;
        n++;
        if (strict(p) && !char_diag) {
            mr_cursor wc = mr_cur_from_span(w);
            mr_span ok;
            mr_cur_take_class(&wc, MR_C_VCHAR, &ok);
            if (!mr_cur_empty(&wc)) {
                char_diag = 1;
                diag(p, w_at + ok.len, "RFC 5321 4.1.1.1", "EHLO parameter has a byte outside %d33-126");
            }
        }
        uint64_t sep_at = args_off(kw->args, args_at, &c);
        mr_cur_take_class(&c, MR_C_SPACE, &sep);
        if (strict(p) && !sep_diag && !mr_cur_empty(&c) && !mr_span_eq(sep, " ")) {
            sep_diag = 1;
            diag(p, sep_at, "RFC 5321 4.1.1.1", "EHLO parameters not separated by a single SP");
        }
    }
    kw->n_params = n;
    kw->params = NULL;
    if (n == 0)
        return 1;
    mr_span *arr = mr_store_alloc(&p->base.st, n * sizeof *arr);
    if (!arr)
        return 0;
    c = mr_cur_from_span(kw->args);
    n = 0;
    for (mr_cur_skip_space(&c); mr_cur_get_word(&c, &w); mr_cur_skip_space(&c))
        arr[n++] = w;
    kw->params = arr;
    return 1;
}

/* RFC 4422 3.1: a mechanism name is 1 to 20 upper-case letters, digits, "-" and "_". */
static int mech_ok(mr_span m)
{
    mr_cursor c = mr_cur_from_span(m);
    uint8_t ch;
    if (m.len < 1 || m.len > 20)
        return 0;
    while (mr_cur_get_u8(&c, &ch))
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return 0;
    return 1;
}

/* What a known keyword's parameters must be (see ext_defs). */
static void check_params(mr_smtp_parser *p, mr_smtp_keyword *kw, uint64_t args_at)
{
    const struct ext_def *d = &ext_defs[kw->kind];
    mr_cursor c = mr_cur_from_span(kw->args);
    mr_span w;
    switch (d->rule) {
    case P_ANY:
        break;
    case P_NONE:
        if (kw->n_params > 0)
            diag(p, args_at, d->ref, "parameter after an EHLO keyword that takes none");
        break;
    case P_NUMBER_OPT:
        /* SIZE: size-param ::= [1*DIGIT], 0 = no fixed maximum (RFC 1870 3);
         * DELIVERBY: [SP min-by-time] (RFC 2852 4). */
        if (kw->n_params == 0)
            break;
        if (!mr_cur_get_u64(&c, &kw->number)) {
            kw->number = 0;
            reply_error(p, MR_E_BAD_FIELD, args_at,
                        "EHLO keyword parameter is not a decimal number (RFC 1870 3, RFC 2852 4)");
            break;
        }
        if (!mr_cur_empty(&c) && !mr_cur_next_is(&c, ' ') && !mr_cur_next_is(&c, '\t')) {
            reply_error(p, MR_E_BAD_FIELD, args_off(kw->args, args_at, &c),
                        "EHLO keyword parameter is not a decimal number (RFC 1870 3, RFC 2852 4)");
            kw->number = 0;
            break;
        }
        kw->has_number = 1;
        if (kw->n_params > 1) {
            mr_cur_skip_space(&c);
            diag(p, args_off(kw->args, args_at, &c), d->ref,
                 "more than one parameter after an EHLO keyword that takes one number");
        }
        break;
    case P_LIST:
        /* RFC 4954 3: a space-separated list of SASL mechanism names. */
        if (kw->n_params == 0)
            diag(p, args_at, d->ref, "AUTH lists no SASL mechanism");
        if (!strict(p))
            break;
        for (;;) {
            mr_cur_skip_space(&c);
            uint64_t at = args_off(kw->args, args_at, &c);
            if (!mr_cur_get_word(&c, &w))
                break;
            if (!mech_ok(w)) {
                diag(p, at, "RFC 4422 3.1", "SASL mechanism name is not 1-20 of A-Z 0-9 - _");
                break;
            }
        }
        break;
    }
}

/*
 * One line of an EHLO reply after the first: ehlo-line = ehlo-keyword
 * *(SP ehlo-param) (RFC 5321 4.1.1.1), or the pre-RFC 4954 form
 * "AUTH=PLAIN LOGIN" (legacy).  1 ok, 0 store failure.
 */
static int decode_keyword(mr_smtp_parser *p, const mr_line *l, mr_span text, mr_smtp_keyword *kw)
{
    mr_cursor c = mr_cur_from_span(text);
    uint8_t ch;
    int malformed = 0;
    memset(kw, 0, sizeof *kw);
    if (!mr_cur_peek(&c, &ch) || !mr_is(ch, MR_C_ALPHA | MR_C_DIGIT)) {
        malformed = 1;
        reply_error(p, MR_E_BAD_FIELD, cur_off(l, &c),
                    "EHLO reply line does not start with an ehlo-keyword (RFC 5321 4.1.1.1)");
        mr_cur_get_word(&c, &kw->name);
    } else {
        mr_cursor start = c;
        mr_cur_take_class(&c, MR_C_KEYW, &kw->name);
        if (mr_cur_accept(&c, '=')) {
            kw->legacy = 1;
            diag(p, cur_off(l, &c) - 1, "RFC 5321 4.1.1.1",
                 "'=' instead of SP after the EHLO keyword (pre-RFC 4954 form)");
        } else if (mr_cur_next_is(&c, '\t')) {
            diag(p, cur_off(l, &c), "RFC 5321 4.1.1.1", "HTAB instead of SP after the EHLO keyword");
        } else if (!mr_cur_empty(&c) && !mr_cur_next_is(&c, ' ')) {
            malformed = 1;
            reply_error(p, MR_E_BAD_FIELD, cur_off(l, &c),
                        "ehlo-keyword has a byte other than ALPHA, DIGIT or '-' (RFC 5321 4.1.1.1)");
            c = start;
            mr_cur_get_word(&c, &kw->name); /* the whole word, kept as OTHER */
        }
    }
    kw->kind = malformed ? MR_SMTP_EXT_OTHER : lookup_ext(kw->name);

    mr_span rest = mr_cur_rest(&c); /* runs to the end of the line */
    uint64_t rest_at = cur_off(l, &c);
    mr_span trimmed = mr_span_rtrim(rest);
    if (trimmed.len != rest.len)
        diag(p, rest_at + trimmed.len, "RFC 5321 4.1.1.1", "EHLO reply line ends in white space");
    mr_cursor a = mr_cur_from_span(trimmed);
    mr_cur_skip_space(&a);
    kw->args = mr_cur_rest(&a);
    uint64_t args_at = rest_at + (trimmed.len - a.len);
    if (!split_params(p, kw, args_at))
        return 0;
    check_params(p, kw, args_at);
    return 1;
}

/* EHLO / LHLO positive reply (RFC 5321 4.1.1.1, RFC 2033 4.1). 1 ok, 0 store failure. */
static int decode_ehlo(mr_smtp_parser *p, mr_smtp_reply *r)
{
    decode_domain(p, r, 1, "RFC 5321 4.1.1.1", "EHLO reply names no domain",
                  "EHLO reply domain is neither a Domain nor an address-literal");
    if (r->n_lines < 2)
        return 1;
    mr_smtp_keyword *kws = mr_store_alloc(&p->base.st, (r->n_lines - 1) * sizeof *kws);
    if (!kws)
        return 0;
    size_t k = 0;
    for (size_t i = 1; i < r->n_lines; i++) {
        line_info li;
        classify_line(&r->lines[i], &li);
        if (li.kind == L_BAD_CODE)
            continue; /* a line kept inside the reply, already reported */
        if (!decode_keyword(p, &r->lines[i], r->texts[i], &kws[k]))
            return 0;
        k++;
    }
    r->keywords = kws;
    r->n_keywords = k;
    return 1;
}

/*
 * A 334 challenge (RFC 4954 4): the text is the base64 challenge and
 * nothing else; "334 " is an empty challenge.  1 ok, 0 store failure.
 */
static int decode_sasl(mr_smtp_parser *p, mr_smtp_reply *r)
{
    const mr_line *l = &r->lines[0];
    mr_span text = r->texts[0];
    uint64_t text_at = line_end(l) - text.len;
    if (r->n_lines > 1)
        diag(p, r->lines[1].offset, "RFC 4954 4", "a 334 challenge spans more than one line");
    mr_span b64 = mr_span_rtrim(text);
    if (b64.len != text.len)
        diag(p, text_at + b64.len, "RFC 4954 4", "white space after the base64 challenge");
    uint8_t *out = mr_store_alloc(&p->base.st, mr_base64_max_decoded(b64.len));
    if (!out)
        return 0;
    size_t n = 0, bad = 0;
    switch (mr_base64_decode(b64, out, &n, &bad)) {
    case MR_B64_INVALID:
        reply_error(p, MR_E_BAD_BASE64, text_at + bad, "334 challenge is not valid base64 (RFC 4954 4)");
        return 1;
    case MR_B64_UNPADDED:
        diag(p, text_at + b64.len, "RFC 4648 3.2", "base64 challenge lacks its '=' padding");
        break;
    case MR_B64_OK:
        break;
    }
    r->sasl.ptr = out;
    r->sasl.len = n;
    return 1;
}

/*
 * MR_SMTP_GUESS (nothing queued): 334 is an AUTH challenge; a multi-line
 * 250 whose lines after the first all look like ehlo-lines answers EHLO.
 */
static mr_smtp_cmd guess_cmd(const mr_smtp_reply *r)
{
    if (r->code == 334)
        return MR_SMTP_AUTH;
    if (r->code != 250 || r->n_lines < 2)
        return MR_SMTP_OTHER;
    for (size_t i = 1; i < r->n_lines; i++) {
        line_info li;
        classify_line(&r->lines[i], &li);
        if (li.kind == L_BAD_CODE || !looks_like_ehlo_line(r->texts[i]))
            return MR_SMTP_OTHER;
    }
    return MR_SMTP_EHLO;
}

/* The final line arrived: build texts and typed results, take the command off the queue. */
static mr_event_type complete(mr_smtp_parser *p, mr_smtp_event *ev)
{
    mr_store *st = &p->base.st;
    mr_smtp_reply *r = &p->reply;
    size_t n = st->n_lines;
    uint64_t fail_at = st->lines[n - 1].offset;
    int utf8_param = 0; /* the command line carried SMTPUTF8 */
    mr_span *texts = mr_store_alloc(st, n * sizeof *texts);
    if (!texts)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        line_info li;
        classify_line(&st->lines[i], &li);
        texts[i] = li.text;
    }
    r->lines = st->lines;
    r->texts = texts;
    r->n_lines = n;

    if (p->noise) {
        r->cmd = MR_SMTP_OTHER; /* answers no command: see on_line() */
    } else {
        int lz = 0;
        if (parse_enhanced(texts[0], &r->enhanced, &lz)) {
            uint64_t at = line_end(&st->lines[0]) - texts[0].len;
            if (lz)
                diag(p, at, "RFC 3463 2", "enhanced status code sub-code has a leading zero");
            if (r->enhanced.klass != r->code / 100)
                diag(p, at, "RFC 2034 4", "enhanced status code class differs from the reply code's first digit");
        }
        uint8_t entry = MR_SMTP_GUESS;
        int queued = mr_pending_peek(&p->base.pend, &entry);
        uint8_t head = (uint8_t)(entry & Q_CMD_MASK);
        utf8_param = queued && (entry & Q_SMTPUTF8);
        if (!p->greeted) {
            /* The first reply is the greeting whatever is queued (a client
             * may send EHLO before it arrives); an explicit GREETING is used up. */
            p->greeted = 1;
            r->cmd = MR_SMTP_GREETING;
            if (queued && head == MR_SMTP_GREETING)
                mr_pending_pop(&p->base.pend);
        } else {
            r->cmd = head == MR_SMTP_GUESS ? guess_cmd(r) : (mr_smtp_cmd)head;
            /* Every reply answers one command, except 334: the AUTH
             * exchange goes on until its final reply (RFC 4954 4). */
            if (queued && !(r->code == 334 && r->cmd == MR_SMTP_AUTH))
                mr_pending_pop(&p->base.pend);
        }
        int ok = 1;
        switch (r->cmd) {
        case MR_SMTP_GREETING:
            decode_greeting(p, r);
            break;
        case MR_SMTP_EHLO:
        case MR_SMTP_LHLO:
            if (r->code / 100 == 2)
                ok = decode_ehlo(p, r);
            break;
        case MR_SMTP_HELO:
            if (r->code / 100 == 2)
                decode_domain(p, r, 1, "RFC 5321 4.1.1.1", "HELO reply names no domain",
                              "HELO reply domain is neither a Domain nor an address-literal");
            break;
        default:
            break;
        }
        /* 334 is the server challenge of RFC 4954 4 and nothing else: decoded
         * as one whatever command it answers (a broken greeting may have
         * shifted the queue). */
        if (ok && r->code == 334 && r->cmd != MR_SMTP_GREETING)
            ok = decode_sasl(p, r);
        if (!ok)
            goto fail;
        /* RFC 6531 3.7.4.1: a MAIL with SMTPUTF8 allows UTF-8 in the 251/551
         * replies of its transaction, which ends with these commands. */
        if (r->cmd == MR_SMTP_MAIL)
            p->utf8_txn = utf8_param && r->code / 100 == 2;
        else if (r->cmd == MR_SMTP_RSET || r->cmd == MR_SMTP_EHLO || r->cmd == MR_SMTP_HELO ||
                 r->cmd == MR_SMTP_LHLO || r->cmd == MR_SMTP_DATA_END || r->cmd == MR_SMTP_QUIT ||
                 r->cmd == MR_SMTP_GREETING)
            p->utf8_txn = 0;
    }
    /* RFC 6531 3.7.4: UTF-8 only in replies to VRFY/EXPN sent with SMTPUTF8
     * (3.7.4.2) and in 251/551 replies of an SMTPUTF8 transaction (3.7.4.1). */
    if (p->nonascii && !((r->cmd == MR_SMTP_VRFY || r->cmd == MR_SMTP_EXPN) && utf8_param) &&
        !((r->code == 251 || r->code == 551) && p->utf8_txn))
        diag(p, p->nonascii_at, "RFC 6531 3.7.4", "non-ASCII text in a reply that may not carry UTF-8");

    r->diags = st->diags;
    r->n_diags = st->n_diags;
    r->diags_dropped = st->diags_dropped;
    p->after_result = 1;
    ev->reply = r;
    if (p->rerr.code != MR_E_OK) {
        ev->type = MR_EV_ERROR;
        ev->error = p->rerr;
    } else {
        ev->type = MR_EV_RESPONSE;
    }
    return ev->type;

fail:
    fail_store(p, fail_at);
    ev->type = MR_EV_ERROR;
    ev->error = p->fatal;
    return MR_EV_ERROR;
}

/* ---- feeding ------------------------------------------------------------------------- */

static mr_event_type fatal_event(const mr_smtp_parser *p, mr_smtp_event *ev)
{
    ev->type = MR_EV_ERROR;
    ev->reply = NULL;
    ev->error = p->fatal;
    return MR_EV_ERROR;
}

/* Every field of *ev zeroed, field by field: a memset() of the whole
 * struct can compile to "rep stos", costly for a call fed a few bytes. */
static inline void clear_event(mr_smtp_event *ev)
{
    ev->type = MR_EV_NEED_MORE;
    ev->reply = NULL;
    ev->error.code = MR_E_OK;
    ev->error.offset = 0;
    ev->error.detail = NULL;
}

/* Everything but the fast path of mr_smtp_next(). */
__attribute__((noinline)) static mr_event_type next_slow(mr_smtp_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_smtp_event *ev)
{
    mr_cursor in;
    clear_event(ev);
    *consumed = 0;
    if (p->fatal.code != MR_E_OK)
        return fatal_event(p, ev);
    if (p->after_result)
        begin_reply(p); /* the reply handed out last is no longer readable */
    if (len == 0)
        return ev->type = MR_EV_NEED_MORE;
    if (!data) {
        set_fatal(p, MR_E_USAGE, p->base.lr.offset, "mr_smtp_next() called with NULL data and a nonzero len");
        return fatal_event(p, ev);
    }
    mr_cur_init(&in, data, len);
    for (;;) {
        mr_line line;
        mr_error err;
        size_t used = 0;
        mr_lr_result rr = mr_lr_next(&p->base.lr, in.p, in.len, &used, &line, &err);
        mr_cur_skip(&in, used);
        *consumed = len - in.len;
        if (rr == MR_LR_ERROR) {
            set_fatal(p, err.code, err.offset, err.detail);
            return fatal_event(p, ev);
        }
        if (rr == MR_LR_MORE) {
            /* The feed ends inside a reply: copy what still points into it. */
            if (!mr_store_pin(&p->base.st)) {
                fail_store(p, p->base.st.lines[p->base.st.pinned].offset);
                return fatal_event(p, ev);
            }
            return ev->type = MR_EV_NEED_MORE;
        }
        int done = on_line(p, &line);
        if (done < 0)
            return fatal_event(p, ev);
        if (done)
            return complete(p, ev);
    }
}

/*
 * Fed in small pieces, most calls only add to the line being kept: that
 * is done here, in a function small enough to cost little more than the
 * call (make bench, mailrig-1).  The previous call returned NEED_MORE and
 * pinned what pointed into the caller's data, so nothing else changes.
 */
mr_event_type mr_smtp_next(mr_smtp_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_smtp_event *ev)
{
    if (p->fatal.code == MR_E_OK && !p->after_result && data && mr_lr_absorb(&p->base.lr, data, len)) {
        clear_event(ev);
        *consumed = len;
        return MR_EV_NEED_MORE;
    }
    return next_slow(p, data, len, consumed, ev);
}

mr_event_type mr_smtp_finish(mr_smtp_parser *p, mr_smtp_event *ev)
{
    clear_event(ev);
    if (p->fatal.code != MR_E_OK)
        return fatal_event(p, ev);
    if (p->after_result)
        begin_reply(p);
    if (mr_lr_partial(&p->base.lr) > 0) {
        set_fatal(p, MR_E_UNEXPECTED_EOF, p->base.lr.offset, "the stream ended inside a line (no LF)");
        return fatal_event(p, ev);
    }
    if (p->base.st.n_lines > 0) {
        set_fatal(p, MR_E_UNEXPECTED_EOF, p->base.lr.offset,
                  "missing final line: the stream ended inside a multi-line reply");
        return fatal_event(p, ev);
    }
    return ev->type = MR_EV_NEED_MORE;
}
