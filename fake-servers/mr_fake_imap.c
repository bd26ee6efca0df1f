/*
 * mr_fake_imap.c - the fake IMAP server's default behaviour
 * (mr_proto_imap): what a correct IMAP4rev1 server (RFC 3501, with the
 * clarifications of RFC 9051) answers, over the session's copy of the
 * mailbox.
 *
 * Extensions: LITERAL+ (RFC 7888), SASL-IR (RFC 4959), ID (RFC 2971),
 * ENABLE (RFC 5161: nothing to enable, "* ENABLED" lists nothing), IDLE
 * (RFC 2177), NAMESPACE (RFC 2342), UIDPLUS (RFC 4315: APPENDUID, COPYUID,
 * UID EXPUNGE), MOVE (RFC 6851), UNSELECT (RFC 3691), CHILDREN (RFC 3348),
 * STARTTLS (RFC 9051 6.2.1, RFC 2595) when the server is in starttls mode,
 * AUTH=PLAIN LOGIN CRAM-MD5 XOAUTH2 (mr_sasl.h).
 *
 * Policy choices, documented for users of the harness:
 *  - LOGINDISABLED is never advertised: plaintext LOGIN and AUTHENTICATE
 *    are allowed before STARTTLS, so that clients configured for
 *    plaintext work (a scenario can refuse them).
 *  - After authentication the capability list loses AUTH=, SASL-IR and
 *    STARTTLS (RFC 9051 6.2.1, 7.2.2).
 *  - Commands in the wrong state and unknown commands get BAD; after
 *    MAX_BADS (20) BAD answers in a row the server sends "* BYE Too many
 *    invalid commands" and closes.
 *  - A literal over the limit gets "tag BAD [TOOBIG]" (RFC 7888 4 and 5,
 *    RFC 4469); a synchronizing one is refused before the continuation
 *    (RFC 9051 4.3), so the client never sends it.  The continuation for a
 *    synchronizing literal is always sent, even when the client sent the
 *    literal ahead of it: the output does not depend on how TCP cut the
 *    client's bytes.
 *  - The rest of a refused command (a skipped non-synchronizing literal,
 *    the remainder of a too long line) is dropped as it arrives: input()
 *    returns MR_IN_ERROR for those bytes without queueing a second reply
 *    (the first error unit got the "tag BAD"); nothing is ever buffered
 *    beyond max_line / max_command.
 *  - The selected mailbox cannot be deleted, and INBOX cannot be renamed
 *    while it is selected: NO [INUSE].
 *  - \Recent (RFC 3501 2.3.2): messages keep it while the mailbox is
 *    selected read-write; it is cleared when the session leaves it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mr_cmd_imap.h"
#include "mr_fake.h"
#include "mr_mailbox.h"
#include "mr_mime.h"
#include "mr_sasl.h"

#define MAX_BADS 20
#define MAX_RANGES 100000
#define MAX_SEARCH_DEPTH 64
/* COPY refuses to take the session's mailbox above this many messages
 * (NO [LIMIT], RFC 5530): without a bound, "COPY 1:* INBOX" doubles a
 * folder with a few bytes, and 24 of them took 15 TB.  Twice what a
 * mailbox may load (mr_mailbox.c), so a loaded one can still be copied. */
#define MAX_SESSION_MESSAGES 200000u
/* APPEND refuses to take a session's appended bytes above this many
 * max_literals (NO [LIMIT]): each message is bounded by max_literal, but
 * not their sum, and a session's mailbox is held in memory (256 MiB with
 * the default 64 MiB). */
#define MAX_SESSION_APPEND_LITERALS 4u

enum { S_NOTAUTH = 1, S_AUTH = 2, S_SELECTED = 4, S_ANY = 7 };

typedef struct imap_st {
    mr_imapcmd_reader rd;
    mr_imapcmd cur;          /* the unit handed out: cmd->tag and ->name point here */
    mr_imapcmd_tokens tk;
    int state;               /* S_* */
    mr_folder *sel;          /* S_SELECTED: the mailbox */
    int readonly;            /* selected with EXAMINE */
    int idling;
    char idle_tag[MR_IMAPCMD_MAX_TAG + 1];
    int in_sasl;
    mr_sasl sasl;
    char auth_tag[MR_IMAPCMD_MAX_TAG + 1];
    int bads;                /* BAD answers in a row */
    size_t appended;         /* bytes APPENDed in this session */
} imap_st;

/* ------------------------------------------------------------ small helpers */

static int ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'a' && x <= 'z')
            x = (char)(x - 32);
        if (y >= 'a' && y <= 'z')
            y = (char)(y - 32);
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static uint8_t up(uint8_t c) { return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c; }

/* ASCII case-insensitive substring search; an empty needle matches. */
static int icontains(const char *hay, const uint8_t *needle, size_t n)
{
    size_t h = strlen(hay);
    if (n == 0)
        return 1;
    for (size_t i = 0; i + n <= h; i++) {
        size_t k = 0;
        while (k < n && up((uint8_t)hay[i + k]) == up(needle[k]))
            k++;
        if (k == n)
            return 1;
    }
    return 0;
}

/* A NUL-terminated copy of a token's value, or NULL when it holds a NUL. */
static char *tokdup(const mr_imaptok *t)
{
    char *s;
    if (memchr(t->str, 0, t->len))
        return NULL;
    s = malloc(t->len + 1);
    if (!s)
        abort();
    memcpy(s, t->str, t->len);
    s[t->len] = 0;
    return s;
}

static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static int month_of(const uint8_t *p)
{
    for (int i = 0; i < 12; i++)
        if (up(p[0]) == up((uint8_t)months[i][0]) && up(p[1]) == up((uint8_t)months[i][1]) &&
            up(p[2]) == up((uint8_t)months[i][2]))
            return i + 1;
    return 0;
}

static int digits(const uint8_t *p, size_t n, int *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        *v = *v * 10 + (p[i] - '0');
    }
    return 1;
}

/* date = date-day "-" date-month "-" date-year (RFC 9051 9): days since
 * the epoch, or 0 on a bad date. */
static int parse_date(const uint8_t *p, size_t n, long long *days)
{
    size_t dl;
    int d, y, m;
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        p++;
        n -= 2;
    }
    dl = n >= 1 && p[1] == '-' ? 1 : 2;
    if (n != dl + 9 || p[dl] != '-' || p[dl + 4] != '-' || !digits(p, dl, &d) ||
        !(m = month_of(p + dl + 1)) || !digits(p + dl + 5, 4, &y) || d < 1 || d > 31)
        return 0;
    *days = days_from_civil(y, (unsigned)m, (unsigned)d);
    return 1;
}

/* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time
 * SP zone DQUOTE (RFC 9051 9): "17-Jul-1996 02:44:25 -0700". */
static int parse_date_time(const uint8_t *p, size_t n, time_t *out)
{
    int d, m, y, hh, mi, ss, z;
    if (n != 26 || p[2] != '-' || p[6] != '-' || p[11] != ' ' || p[14] != ':' || p[17] != ':' ||
        p[20] != ' ' || (p[21] != '+' && p[21] != '-'))
        return 0;
    if (!digits(p + (p[0] == ' ' ? 1 : 0), p[0] == ' ' ? 1 : 2, &d) || !(m = month_of(p + 3)) ||
        !digits(p + 7, 4, &y) || !digits(p + 12, 2, &hh) || !digits(p + 15, 2, &mi) ||
        !digits(p + 18, 2, &ss) || !digits(p + 22, 4, &z) || d < 1 || d > 31 || hh > 23 ||
        mi > 59 || ss > 60)
        return 0;
    long long t = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mi * 60 + ss;
    long long zs = (z / 100) * 3600 + (z % 100) * 60;
    t += p[21] == '+' ? -zs : zs;
    *out = (time_t)t;
    return 1;
}

static void send_date_time(mr_sess *s, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    mr_sess_sendf(s, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday, months[tm.tm_mon],
                  tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A string: quoted when it can be (RFC 9051 9 quoted), else a literal. */
static void send_string(mr_sess *s, const void *v, size_t n)
{
    const uint8_t *p = v;
    int quote = n < 1024;
    for (size_t i = 0; i < n && quote; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == 0 || p[i] >= 0x80)
            quote = 0;
    if (!quote) {
        mr_sess_sendf(s, "{%zu}\r\n", n);
        mr_sess_send(s, p, n);
        return;
    }
    mr_sess_send(s, "\"", 1);
    for (size_t i = 0, j = 0; i <= n; i++) {
        if (i == n || p[i] == '"' || p[i] == '\\') {
            mr_sess_send(s, p + j, i - j);
            if (i < n)
                mr_sess_send(s, "\\", 1);
            j = i;
        }
    }
    mr_sess_send(s, "\"", 1);
}

static void send_strz(mr_sess *s, const char *z) { send_string(s, z, strlen(z)); }

static void send_literal(mr_sess *s, const void *p, size_t n)
{
    mr_sess_sendf(s, "{%zu}\r\n", n);
    mr_sess_send(s, p, n);
}

static const char *capabilities(mr_sess *s, const imap_st *st)
{
    if (st->state != S_NOTAUTH)
        return "IMAP4rev1 LITERAL+ ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN";
    if (mr_sess_starttls_offerable(s))
        return "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN "
               "STARTTLS AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=XOAUTH2";
    return "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UIDPLUS MOVE UNSELECT CHILDREN "
           "AUTH=PLAIN AUTH=LOGIN AUTH=CRAM-MD5 AUTH=XOAUTH2";
}

/* The tagged answer; BADs in a row are counted and end the session. */
static void tagged(mr_sess *s, imap_st *st, const char *tag, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void tagged(mr_sess *s, imap_st *st, const char *tag, const char *status, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    mr_sess_sendf(s, "%s %s %s\r\n", tag && *tag ? tag : "*", status, text);
    if (strcmp(status, "BAD") != 0) {
        st->bads = 0;
        return;
    }
    if (++st->bads >= MAX_BADS) {
        mr_sess_sends(s, "* BYE Too many invalid commands\r\n");
        mr_sess_note(s, "closed after %d invalid commands in a row", MAX_BADS);
        mr_sess_close(s);
    }
}

/* Leave the selected state: \Recent is spent (RFC 3501 2.3.2). */
static void deselect(imap_st *st)
{
    if (st->sel && !st->readonly)
        for (size_t i = 0; i < st->sel->count; i++)
            st->sel->msgs[i]->flags &= ~(unsigned)MR_F_RECENT;
    st->sel = NULL;
    st->readonly = 0;
    if (st->state == S_SELECTED)
        st->state = S_AUTH;
}

/* ------------------------------------------------------------ module entry points */

static void imap_init(mr_sess *s, void *vst)
{
    imap_st *st = vst;
    const mr_fake_config *cfg = mr_sess_config(s);
    mr_imapcmd_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.max_line = cfg->max_line;
    lim.max_literal = cfg->max_literal;
    lim.max_command = cfg->max_command;
    mr_imapcmd_init(&st->rd, &lim);
    mr_imapcmd_tokens_init(&st->tk, 0, 0);
    st->state = S_NOTAUTH;
    mr_mime_init();
}

static void imap_fini(mr_sess *s, void *vst)
{
    imap_st *st = vst;
    mr_imapcmd_tokens_cleanup(&st->tk);
}

static void imap_greeting(mr_sess *s, void *vst)
{
    imap_st *st = vst;
    mr_sess_sendf(s, "* OK [CAPABILITY %s] mailrig IMAP ready\r\n", capabilities(s, st));
}

static void imap_tls_started(mr_sess *s, void *vst)
{
    imap_st *st = vst;
    /* RFC 9051 6.2.1: the client forgets the capabilities; the server
     * forgets nothing it learnt in plaintext but starts from not
     * authenticated. */
    mr_imapcmd_reset(&st->rd);
    mr_imapcmd_set_sasl(&st->rd, 0);
    deselect(st);
    st->state = S_NOTAUTH;
    st->in_sasl = 0;
    st->idling = 0;
    st->bads = 0;
}

static void end_sasl(imap_st *st)
{
    st->in_sasl = 0;
    mr_imapcmd_set_sasl(&st->rd, 0);
}

static void imap_error_reply(mr_sess *s, void *vst, const mr_cmd *cmd, const char *text)
{
    imap_st *st = vst;
    const char *tag = cmd->tag;
    if (st->in_sasl && strcmp(cmd->name, "<sasl>") == 0) {
        tag = st->auth_tag;
        end_sasl(st);
    } else if (st->idling && strcmp(cmd->name, "DONE") == 0) {
        tag = st->idle_tag;
        st->idling = 0;
    }
    mr_sess_sendf(s, "%s NO %s\r\n", tag && *tag ? tag : "*", text);
}

/* Which states a command is valid in, and whether it is known. */
typedef void (*handler)(mr_sess *s, imap_st *st, const char *tag, int uid);
static handler find_command(const char *name, int *states, int *uid);

static int imap_input(mr_sess *s, void *vst, const uint8_t *p, size_t n, int eof, mr_cmd *cmd)
{
    imap_st *st = vst;
    mr_imapcmd *c = &st->cur;
    for (;;) {
        mr_imapcmd_result r = mr_imapcmd_next(&st->rd, p, n, eof, c);
        if (r == MR_IMAPCMD_MORE)
            return MR_IN_MORE;
        if (r == MR_IMAPCMD_CONTINUE) {
            /* Refuse before the literal what will be refused anyway
             * (RFC 9051 4.3: the server may answer BAD/NO instead). */
            int states = 0, uid = 0;
            handler h = find_command(c->name, &states, &uid);
            const char *why = NULL;
            if (st->idling)
                why = "Expected DONE";
            else if (!h)
                why = "Unknown command";
            else if (!(states & st->state))
                why = "Command not valid in this state";
            if (!why) {
                mr_sess_sends(s, "+ Ready for literal data\r\n");
                mr_sess_segment(s);
                continue;
            }
            mr_imapcmd_refuse(&st->rd, p, c);
            if (st->idling) {
                tagged(s, st, st->idle_tag, "BAD", "%s", why);
                st->idling = 0;
            } else {
                tagged(s, st, c->tag, "BAD", "%s", why);
            }
        } else if (r == MR_IMAPCMD_ERROR && c->reply) {
            const char *tag = c->tag;
            if (st->in_sasl) {
                tag = st->auth_tag;
                end_sasl(st);
            }
            if (c->err.code == MR_IMAPCMD_E_LITERAL_TOO_LARGE ||
                c->err.code == MR_IMAPCMD_E_COMMAND_TOO_LARGE)
                tagged(s, st, tag, "BAD", "[TOOBIG] %s", c->err.message);
            else
                tagged(s, st, tag, "BAD", "%s", c->err.message);
        }
        cmd->tag = c->tag;
        cmd->name = r == MR_IMAPCMD_COMMAND ? c->name : "";
        cmd->line = c->line;
        cmd->line_len = c->line_len;
        cmd->args = c->args;
        cmd->args_len = c->args_len;
        cmd->consumed = c->consumed;
        return r == MR_IMAPCMD_COMMAND ? MR_IN_COMMAND : MR_IN_ERROR;
    }
}

/* ------------------------------------------------------------ message sets */

typedef struct mset {
    mr_imapcmd_range *r;
    size_t n;
} mset;

static int cmp_range(const void *a, const void *b)
{
    const mr_imapcmd_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Parse a set and resolve it against folder f: "*" is the last message's
 * number (or UID); ranges sorted and merged.  For message numbers a
 * number past the last message is an error when strict.  Returns NULL
 * or an error text. */
static const char *mset_parse(const mr_imaptok *t, const mr_folder *f, int uid, int strict, mset *out)
{
    int dollar = 0;
    long k;
    uint64_t star;
    out->r = NULL;
    out->n = 0;
    if (t->type != MR_IMAPTOK_ATOM)
        return "Invalid message set";
    k = mr_imapcmd_seqset(t->str, t->len, NULL, 0, &dollar);
    if (dollar)
        return "$ needs SEARCHRES, not supported";
    if (k < 0)
        return "Invalid message set";
    if (k > MAX_RANGES)
        return "Too many ranges in the message set";
    out->r = calloc((size_t)k, sizeof *out->r);
    if (!out->r)
        abort();
    out->n = (size_t)mr_imapcmd_seqset(t->str, t->len, out->r, (size_t)k, &dollar);
    star = uid ? (f->count ? f->msgs[f->count - 1]->uid : 0) : f->count;
    for (size_t i = 0; i < out->n; i++) {
        mr_imapcmd_range *r = &out->r[i];
        if (r->lo == MR_IMAPCMD_STAR)
            r->lo = star;
        if (r->hi == MR_IMAPCMD_STAR)
            r->hi = star;
        if (r->lo > r->hi) {
            uint64_t x = r->lo;
            r->lo = r->hi;
            r->hi = x;
        }
        if (!uid && strict && (r->lo == 0 || r->hi > f->count)) {
            free(out->r);
            out->r = NULL;
            return "Invalid message sequence number";
        }
    }
    qsort(out->r, out->n, sizeof *out->r, cmp_range);
    size_t w = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (w && out->r[i].lo <= out->r[w - 1].hi + 1) {
            if (out->r[i].hi > out->r[w - 1].hi)
                out->r[w - 1].hi = out->r[i].hi;
        } else {
            out->r[w++] = out->r[i];
        }
    }
    out->n = w;
    return NULL;
}

static int mset_has(const mset *m, uint64_t v)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v < m->r[mid].lo)
            hi = mid;
        else if (v > m->r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

/* Is message i (0-based) of f in the set? */
static int mset_msg(const mset *m, const mr_folder *f, size_t i, int uid)
{
    return mset_has(m, uid ? f->msgs[i]->uid : (uint64_t)i + 1);
}

/* Print UIDs as a uid-set (RFC 4315 4): runs become ranges. */
static void send_uidset(mr_sess *s, const uint32_t *u, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && u[j + 1] == u[j] + 1)
            j++;
        if (j > i)
            mr_sess_sendf(s, "%s%u:%u", i ? "," : "", u[i], u[j]);
        else
            mr_sess_sendf(s, "%s%u", i ? "," : "", u[i]);
        i = j + 1;
    }
}

static void send_flags(mr_sess *s, const mr_msg *m)
{
    static const struct {
        unsigned bit;
        const char *name;
    } sys[] = {{MR_F_SEEN, "\\Seen"},       {MR_F_ANSWERED, "\\Answered"}, {MR_F_FLAGGED, "\\Flagged"},
               {MR_F_DELETED, "\\Deleted"}, {MR_F_DRAFT, "\\Draft"},       {MR_F_RECENT, "\\Recent"}};
    int first = 1;
    mr_sess_send(s, "(", 1);
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
        if (m->flags & sys[i].bit) {
            mr_sess_sendf(s, "%s%s", first ? "" : " ", sys[i].name);
            first = 0;
        }
    for (size_t i = 0; i < m->nkeywords; i++) {
        mr_sess_sendf(s, "%s%s", first ? "" : " ", m->keywords[i]);
        first = 0;
    }
    mr_sess_send(s, ")", 1);
}

/* ------------------------------------------------------------ arguments */

#define TOK(st) ((st)->tk.tok)
#define NTOK(st) ((st)->tk.n)

/* A mailbox name argument (astring), "INBOX" for any case of it. */
static char *mailbox_arg(const mr_imaptok *t)
{
    char *n;
    if (!mr_imaptok_is_string(t) || !(n = tokdup(t)))
        return NULL;
    if (ieq(n, "INBOX"))
        memcpy(n, "INBOX", 5);
    return n;
}

static int is_flag_atom(const mr_imaptok *t)
{
    if (t->type != MR_IMAPTOK_ATOM || t->len == 0)
        return 0;
    for (size_t i = t->str[0] == '\\' ? 1 : 0; i < t->len; i++) {
        uint8_t c = t->str[i];
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
            return 0;
    }
    return t->len > (t->str[0] == '\\' ? 1u : 0u);
}

/* A flag: a system flag bit, or 0 and a keyword; -1 when invalid. */
static int flag_of(const mr_imaptok *t, unsigned *bit)
{
    static const struct {
        const char *name;
        unsigned bit;
    } sys[] = {{"\\Seen", MR_F_SEEN},       {"\\Answered", MR_F_ANSWERED}, {"\\Flagged", MR_F_FLAGGED},
               {"\\Deleted", MR_F_DELETED}, {"\\Draft", MR_F_DRAFT}};
    *bit = 0;
    if (!is_flag_atom(t))
        return -1;
    if (t->str[0] != '\\')
        return 0;
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
        if (mr_imaptok_eq(t, sys[i].name)) {
            *bit = sys[i].bit;
            return 1;
        }
    return -1; /* \Recent and unknown system flags cannot be stored */
}

/* ------------------------------------------------------------ any state */

static void cmd_capability(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    if (NTOK(st))
        { tagged(s, st, tag, "BAD", "CAPABILITY takes no arguments"); return; }
    mr_sess_sendf(s, "* CAPABILITY %s\r\n", capabilities(s, st));
    tagged(s, st, tag, "OK", "CAPABILITY completed");
}

static void cmd_noop(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    if (NTOK(st))
        { tagged(s, st, tag, "BAD", "%s takes no arguments", st->cur.name); return; }
    tagged(s, st, tag, "OK", "%s completed", st->cur.name);
}

static void cmd_logout(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    if (NTOK(st))
        { tagged(s, st, tag, "BAD", "LOGOUT takes no arguments"); return; }
    mr_sess_sends(s, "* BYE mailrig IMAP server logging out\r\n");
    tagged(s, st, tag, "OK", "LOGOUT completed");
    deselect(st);
    mr_sess_close(s);
}

static void cmd_id(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    /* RFC 2971 3.1: "(" string SP nstring ... ")" / NIL */
    const mr_imaptok *t = TOK(st);
    size_t n = NTOK(st);
    int ok = n == 1 && t[0].type == MR_IMAPTOK_NIL;
    if (n >= 2 && t[0].type == MR_IMAPTOK_OPEN && t[0].match == n - 1) {
        ok = (n - 2) % 2 == 0 && n - 2 <= 60;
        for (size_t i = 1; ok && i + 1 < n; i += 2)
            ok = (t[i].type == MR_IMAPTOK_QUOTED || t[i].type == MR_IMAPTOK_LITERAL) &&
                 (t[i + 1].type == MR_IMAPTOK_QUOTED || t[i + 1].type == MR_IMAPTOK_LITERAL ||
                  t[i + 1].type == MR_IMAPTOK_NIL);
    }
    if (!ok)
        { tagged(s, st, tag, "BAD", "ID takes a list of field value pairs or NIL"); return; }
    mr_sess_sends(s, "* ID (\"name\" \"mailrig\" \"vendor\" \"mailrig\")\r\n");
    tagged(s, st, tag, "OK", "ID completed");
}

/* ------------------------------------------------------------ not authenticated */

static void logged_in(mr_sess *s, imap_st *st, const char *tag, const char *user, const char *how)
{
    st->state = S_AUTH;
    mr_sess_set_user(s, user);
    mr_sess_note(s, "authenticated as %s (%s)", user, how);
    tagged(s, st, tag, "OK", "[CAPABILITY %s] %s completed", capabilities(s, st), how);
}

static void cmd_starttls(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    if (NTOK(st))
        { tagged(s, st, tag, "BAD", "STARTTLS takes no arguments"); return; }
    if (!mr_sess_starttls_offerable(s))
        { tagged(s, st, tag, "BAD", "STARTTLS not available"); return; }
    tagged(s, st, tag, "OK", "Begin TLS negotiation now");
    mr_sess_starttls(s);
}

static void cmd_login(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    const mr_fake_config *cfg = mr_sess_config(s);
    const mr_imaptok *t = TOK(st);
    char *u, *p;
    if (NTOK(st) != 2 || !mr_imaptok_is_string(&t[0]) || !mr_imaptok_is_string(&t[1]))
        { tagged(s, st, tag, "BAD", "LOGIN takes a user name and a password"); return; }
    u = tokdup(&t[0]);
    p = tokdup(&t[1]);
    if (u && p && strcmp(u, cfg->user) == 0 && strcmp(p, cfg->password) == 0) {
        logged_in(s, st, tag, u, "LOGIN");
    } else {
        mr_sess_note(s, "LOGIN failed");
        tagged(s, st, tag, "NO", "[AUTHENTICATIONFAILED] Invalid credentials");
    }
    free(u);
    free(p);
}

static void sasl_result(mr_sess *s, imap_st *st, mr_sasl_status r, const char *chal)
{
    switch (r) {
    case MR_SASL_CHALLENGE:
        mr_sess_sendf(s, "+ %s\r\n", chal);
        st->in_sasl = 1;
        mr_imapcmd_set_sasl(&st->rd, 1);
        return;
    case MR_SASL_OK:
        end_sasl(st);
        logged_in(s, st, st->auth_tag, st->sasl.authenticated[0] ? st->sasl.authenticated
                                                                   : mr_sess_config(s)->user,
                  "AUTHENTICATE");
        return;
    case MR_SASL_FAIL:
        end_sasl(st);
        mr_sess_note(s, "AUTHENTICATE %s failed", mr_sasl_mech_name(st->sasl.mech));
        tagged(s, st, st->auth_tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
        return;
    case MR_SASL_MALFORMED:
        end_sasl(st);
        tagged(s, st, st->auth_tag, "BAD", "Invalid SASL response");
        return;
    case MR_SASL_ABORTED:
        end_sasl(st);
        tagged(s, st, st->auth_tag, "BAD", "AUTHENTICATE aborted"); /* RFC 9051 6.2.2 */
        return;
    }
}

static void cmd_authenticate(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    const mr_fake_config *cfg = mr_sess_config(s);
    const mr_imaptok *t = TOK(st);
    mr_sasl_mech mech;
    char chal[1024];
    size_t n = NTOK(st);
    if (n < 1 || n > 2 || t[0].type != MR_IMAPTOK_ATOM || (n == 2 && t[1].type != MR_IMAPTOK_ATOM))
        { tagged(s, st, tag, "BAD", "AUTHENTICATE takes a mechanism and an initial response"); return; }
    if (mr_sasl_mech_parse((const char *)t[0].str, t[0].len, &mech) != 0)
        { tagged(s, st, tag, "NO", "Unsupported authentication mechanism"); return; }
    snprintf(st->auth_tag, sizeof st->auth_tag, "%s", tag);
    memset(&st->sasl, 0, sizeof st->sasl);
    chal[0] = 0;
    /* SASL-IR (RFC 4959 3): "=" is an empty initial response. */
    mr_sasl_status r = mr_sasl_start(&st->sasl, mech, cfg->user, cfg->password, cfg->hostname,
                                     n == 2 ? t[1].str : NULL, n == 2 ? t[1].len : 0, chal,
                                     sizeof chal);
    sasl_result(s, st, r, chal);
}

static void sasl_line(mr_sess *s, imap_st *st, const mr_cmd *cmd)
{
    char chal[1024];
    chal[0] = 0;
    mr_sasl_status r = mr_sasl_step(&st->sasl, cmd->args, cmd->args_len, chal, sizeof chal);
    sasl_result(s, st, r, chal);
}

/* ------------------------------------------------------------ authenticated */

static void cmd_enable(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    if (!NTOK(st))
        { tagged(s, st, tag, "BAD", "ENABLE needs capability names"); return; }
    for (size_t i = 0; i < NTOK(st); i++)
        if (TOK(st)[i].type != MR_IMAPTOK_ATOM)
            { tagged(s, st, tag, "BAD", "ENABLE takes capability names"); return; }
    /* RFC 5161 3.2: nothing this server offers can be enabled. */
    mr_sess_sends(s, "* ENABLED\r\n");
    tagged(s, st, tag, "OK", "ENABLE completed");
}

static void cmd_namespace(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    if (NTOK(st))
        { tagged(s, st, tag, "BAD", "NAMESPACE takes no arguments"); return; }
    mr_sess_sends(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"); /* RFC 2342 5 */
    tagged(s, st, tag, "OK", "NAMESPACE completed");
}

/* LIST wildcards (RFC 9051 6.3.9): "*" matches anything, "%" anything but
 * the delimiter.  Dynamic programming: O(pattern x name), no backtracking
 * blow-up. */
static int list_match(const char *pat, size_t pn, const char *name)
{
    size_t nn = strlen(name);
    unsigned char *prev = calloc(nn + 1, 1), *cur = calloc(nn + 1, 1);
    int r;
    if (!prev || !cur)
        abort();
    prev[0] = 1;
    for (size_t i = 1; i <= pn; i++) {
        char c = pat[i - 1];
        cur[0] = (c == '*' || c == '%') && prev[0];
        for (size_t j = 1; j <= nn; j++) {
            if (c == '*')
                cur[j] = prev[j] || cur[j - 1];
            else if (c == '%')
                cur[j] = prev[j] || (cur[j - 1] && name[j - 1] != '/');
            else
                cur[j] = prev[j - 1] && c == name[j - 1];
        }
        memcpy(prev, cur, nn + 1);
    }
    r = prev[nn];
    free(prev);
    free(cur);
    return r;
}

static int has_children(const mr_mailbox *mb, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < mb->nfolders; i++)
        if (strncmp(mb->folders[i]->name, name, n) == 0 && mb->folders[i]->name[n] == '/')
            return 1;
    return 0;
}

static void do_list(mr_sess *s, imap_st *st, const char *tag, int lsub)
{
    const mr_imaptok *t = TOK(st);
    const char *what = lsub ? "LSUB" : "LIST";
    mr_mailbox *mb = mr_sess_mailbox(s);
    char *ref, *pat, *full;
    if (NTOK(st) != 2 || !mr_imaptok_is_string(&t[0]) || !mr_imaptok_is_string(&t[1]))
        { tagged(s, st, tag, "BAD", "%s takes a reference and a mailbox pattern", what); return; }
    ref = tokdup(&t[0]);
    pat = tokdup(&t[1]);
    if (!ref || !pat) {
        free(ref);
        free(pat);
        { tagged(s, st, tag, "BAD", "NUL in a mailbox name"); return; }
    }
    if (!*pat) {
        /* RFC 9051 6.3.9: the hierarchy delimiter and root name. */
        if (!lsub)
            mr_sess_sends(s, "* LIST (\\Noselect) \"/\" \"\"\r\n");
    } else {
        size_t rl = strlen(ref), pl = strlen(pat);
        full = malloc(rl + pl + 1);
        if (!full)
            abort();
        memcpy(full, ref, rl);
        memcpy(full + rl, pat, pl + 1);
        /* INBOX is case-insensitive (RFC 9051 5.1). */
        if (rl + pl >= 5 && ieq((char[]){full[0], full[1], full[2], full[3], full[4], 0}, "INBOX") &&
            (full[5] == 0 || full[5] == '/' || full[5] == '*' || full[5] == '%'))
            memcpy(full, "INBOX", 5);
        for (size_t i = 0; i < mb->nfolders; i++) {
            const mr_folder *f = mb->folders[i];
            if (lsub && !f->subscribed)
                continue;
            if (!list_match(full, rl + pl, f->name))
                continue;
            mr_sess_sendf(s, "* %s (", what);
            if (f->noselect)
                mr_sess_sends(s, "\\Noselect ");
            mr_sess_sends(s, has_children(mb, f->name) ? "\\HasChildren" : "\\HasNoChildren");
            mr_sess_sends(s, ") \"/\" ");
            send_strz(s, f->name);
            mr_sess_sends(s, "\r\n");
        }
        free(full);
    }
    free(ref);
    free(pat);
    tagged(s, st, tag, "OK", "%s completed", what);
}

static void cmd_list(mr_sess *s, imap_st *st, const char *tag, int uid) { do_list(s, st, tag, 0); }
static void cmd_lsub(mr_sess *s, imap_st *st, const char *tag, int uid) { do_list(s, st, tag, 1); }

static size_t count_flag(const mr_folder *f, unsigned bit, int set)
{
    size_t c = 0;
    for (size_t i = 0; i < f->count; i++)
        c += ((f->msgs[i]->flags & bit) != 0) == set;
    return c;
}

static void cmd_status(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    const mr_imaptok *t = TOK(st);
    size_t n = NTOK(st);
    char *name;
    mr_folder *f;
    if (n < 3 || !mr_imaptok_is_string(&t[0]) || t[1].type != MR_IMAPTOK_OPEN || t[1].match != n - 1)
        { tagged(s, st, tag, "BAD", "STATUS takes a mailbox and a list of items"); return; }
    for (size_t i = 2; i + 1 < n; i++)
        if (!(mr_imaptok_eq(&t[i], "MESSAGES") || mr_imaptok_eq(&t[i], "RECENT") ||
              mr_imaptok_eq(&t[i], "UIDNEXT") || mr_imaptok_eq(&t[i], "UIDVALIDITY") ||
              mr_imaptok_eq(&t[i], "UNSEEN") || mr_imaptok_eq(&t[i], "SIZE") ||
              mr_imaptok_eq(&t[i], "DELETED")) ||
            t[i].type != MR_IMAPTOK_ATOM)
            { tagged(s, st, tag, "BAD", "Unknown STATUS item"); return; }
    if (!(name = mailbox_arg(&t[0])))
        { tagged(s, st, tag, "BAD", "Invalid mailbox name"); return; }
    f = mr_mailbox_find(mr_sess_mailbox(s), name);
    if (!f || f->noselect) {
        free(name);
        { tagged(s, st, tag, "NO", "[NONEXISTENT] No such mailbox"); return; }
    }
    mr_sess_sends(s, "* STATUS ");
    send_strz(s, f->name);
    mr_sess_sends(s, " (");
    for (size_t i = 2; i + 1 < n; i++) {
        uint64_t v = 0;
        const char *item = "";
        if (mr_imaptok_eq(&t[i], "MESSAGES"))
            item = "MESSAGES", v = f->count;
        else if (mr_imaptok_eq(&t[i], "RECENT"))
            item = "RECENT", v = count_flag(f, MR_F_RECENT, 1);
        else if (mr_imaptok_eq(&t[i], "UIDNEXT"))
            item = "UIDNEXT", v = f->uidnext;
        else if (mr_imaptok_eq(&t[i], "UIDVALIDITY"))
            item = "UIDVALIDITY", v = f->uidvalidity;
        else if (mr_imaptok_eq(&t[i], "UNSEEN"))
            item = "UNSEEN", v = count_flag(f, MR_F_SEEN, 0);
        else if (mr_imaptok_eq(&t[i], "DELETED"))
            item = "DELETED", v = count_flag(f, MR_F_DELETED, 1);
        else if (mr_imaptok_eq(&t[i], "SIZE"))
            for (size_t k = 0; k < f->count; k++)
                item = "SIZE", v += f->msgs[k]->d->len;
        mr_sess_sendf(s, "%s%s %llu", i > 2 ? " " : "", item, (unsigned long long)v);
    }
    mr_sess_sends(s, ")\r\n");
    free(name);
    tagged(s, st, tag, "OK", "STATUS completed");
}

static void do_select(mr_sess *s, imap_st *st, const char *tag, int examine)
{
    const mr_imaptok *t = TOK(st);
    const char *what = examine ? "EXAMINE" : "SELECT";
    char *name;
    mr_folder *f;
    if (NTOK(st) != 1 || !mr_imaptok_is_string(&t[0]))
        { tagged(s, st, tag, "BAD", "%s takes a mailbox name", what); return; }
    deselect(st); /* even when this one fails (RFC 9051 6.3.2) */
    if (!(name = mailbox_arg(&t[0])))
        { tagged(s, st, tag, "BAD", "Invalid mailbox name"); return; }
    f = mr_mailbox_find(mr_sess_mailbox(s), name);
    free(name);
    if (!f)
        { tagged(s, st, tag, "NO", "[NONEXISTENT] No such mailbox"); return; }
    if (f->noselect)
        { tagged(s, st, tag, "NO", "[CANNOT] Mailbox cannot be selected"); return; }
    st->sel = f;
    st->readonly = examine;
    st->state = S_SELECTED;
    /* RFC 3501 6.3.1 */
    mr_sess_sends(s, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
    {
        /* the keywords in use, each once */
        for (size_t i = 0; i < f->count; i++)
            for (size_t k = 0; k < f->msgs[i]->nkeywords; k++) {
                const char *kw = f->msgs[i]->keywords[k];
                int seen = 0;
                for (size_t j = 0; j < i && !seen; j++)
                    seen = mr_msg_has_keyword(f->msgs[j], kw);
                for (size_t j = 0; j < k && !seen; j++)
                    seen = ieq(f->msgs[i]->keywords[j], kw);
                if (!seen)
                    mr_sess_sendf(s, " %s", kw);
            }
    }
    mr_sess_sends(s, ")\r\n");
    if (examine)
        mr_sess_sends(s, "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n");
    else
        mr_sess_sends(s, "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] "
                         "Flags permitted\r\n");
    mr_sess_sendf(s, "* %zu EXISTS\r\n", f->count);
    mr_sess_sendf(s, "* %zu RECENT\r\n", count_flag(f, MR_F_RECENT, 1));
    for (size_t i = 0; i < f->count; i++)
        if (!(f->msgs[i]->flags & MR_F_SEEN)) {
            mr_sess_sendf(s, "* OK [UNSEEN %zu] First unseen\r\n", i + 1);
            break;
        }
    mr_sess_sendf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", f->uidvalidity);
    mr_sess_sendf(s, "* OK [UIDNEXT %u] Predicted next UID\r\n", f->uidnext);
    tagged(s, st, tag, "OK", "[%s] %s completed", examine ? "READ-ONLY" : "READ-WRITE", what);
}

static void cmd_select(mr_sess *s, imap_st *st, const char *tag, int uid) { do_select(s, st, tag, 0); }
static void cmd_examine(mr_sess *s, imap_st *st, const char *tag, int uid) { do_select(s, st, tag, 1); }

/* One mailbox name argument, checked; NULL after answering BAD. */
static char *one_mailbox(mr_sess *s, imap_st *st, const char *tag)
{
    char *name;
    if (NTOK(st) != 1 || !mr_imaptok_is_string(&TOK(st)[0])) {
        tagged(s, st, tag, "BAD", "%s takes a mailbox name", st->cur.name);
        return NULL;
    }
    if (!(name = mailbox_arg(&TOK(st)[0])))
        tagged(s, st, tag, "BAD", "Invalid mailbox name");
    return name;
}

static void cmd_create(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    char *name = one_mailbox(s, st, tag);
    size_t n;
    if (!name)
        return;
    n = strlen(name);
    while (n > 1 && name[n - 1] == '/') /* RFC 9051 6.3.4: a trailing delimiter */
        name[--n] = 0;
    if (mr_mailbox_find(mr_sess_mailbox(s), name))
        tagged(s, st, tag, "NO", "[ALREADYEXISTS] Mailbox exists");
    else if (!*name || strpbrk(name, "*%") || !mr_mailbox_create(mr_sess_mailbox(s), name))
        tagged(s, st, tag, "NO", "[CANNOT] Invalid mailbox name");
    else {
        mr_sess_note(s, "created %s", name);
        tagged(s, st, tag, "OK", "CREATE completed");
    }
    free(name);
}

static void cmd_delete(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    char *name = one_mailbox(s, st, tag);
    mr_folder *f;
    if (!name)
        return;
    f = mr_mailbox_find(mr_sess_mailbox(s), name);
    if (strcmp(name, "INBOX") == 0)
        tagged(s, st, tag, "NO", "[CANNOT] INBOX cannot be deleted");
    else if (!f)
        tagged(s, st, tag, "NO", "[NONEXISTENT] No such mailbox");
    else if (f == st->sel)
        tagged(s, st, tag, "NO", "[INUSE] Mailbox is selected");
    else if (mr_mailbox_delete(mr_sess_mailbox(s), name) != 0)
        tagged(s, st, tag, "NO", "[CANNOT] Mailbox cannot be deleted");
    else {
        mr_sess_note(s, "deleted %s", name);
        tagged(s, st, tag, "OK", "DELETE completed");
    }
    free(name);
}

static void cmd_rename(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    const mr_imaptok *t = TOK(st);
    mr_mailbox *mb = mr_sess_mailbox(s);
    char *from, *to, *selname = NULL;
    if (NTOK(st) != 2 || !mr_imaptok_is_string(&t[0]) || !mr_imaptok_is_string(&t[1]))
        { tagged(s, st, tag, "BAD", "RENAME takes two mailbox names"); return; }
    from = mailbox_arg(&t[0]);
    to = mailbox_arg(&t[1]);
    if (!from || !to)
        tagged(s, st, tag, "BAD", "Invalid mailbox name");
    else if (!mr_mailbox_find(mb, from))
        tagged(s, st, tag, "NO", "[NONEXISTENT] No such mailbox");
    else if (mr_mailbox_find(mb, to))
        tagged(s, st, tag, "NO", "[ALREADYEXISTS] Target mailbox exists");
    else if (st->sel && strcmp(from, "INBOX") == 0 && strcmp(st->sel->name, "INBOX") == 0)
        tagged(s, st, tag, "NO", "[INUSE] INBOX is selected");
    else if (!*to || strpbrk(to, "*%"))
        tagged(s, st, tag, "NO", "[CANNOT] Invalid mailbox name");
    else {
        if (st->sel) {
            /* the selected mailbox, or one of its parents, may be renamed */
            size_t fl = strlen(from);
            const char *sn = st->sel->name;
            if (strcmp(sn, from) == 0 || (strncmp(sn, from, fl) == 0 && sn[fl] == '/')) {
                size_t tl = strlen(to);
                selname = malloc(tl + strlen(sn + fl) + 1);
                if (!selname)
                    abort();
                memcpy(selname, to, tl);
                strcpy(selname + tl, sn + fl);
            } else {
                selname = malloc(strlen(sn) + 1);
                if (!selname)
                    abort();
                strcpy(selname, sn);
            }
        }
        if (mr_mailbox_rename(mb, from, to) != 0) {
            tagged(s, st, tag, "NO", "[CANNOT] Mailbox cannot be renamed");
        } else {
            mr_sess_note(s, "renamed %s to %s", from, to);
            tagged(s, st, tag, "OK", "RENAME completed");
        }
        if (selname) {
            st->sel = mr_mailbox_find(mb, selname);
            if (!st->sel)
                st->state = S_AUTH;
        }
        free(selname);
    }
    free(from);
    free(to);
}

static void do_subscribe(mr_sess *s, imap_st *st, const char *tag, int on)
{
    char *name = one_mailbox(s, st, tag);
    mr_folder *f;
    if (!name)
        return;
    f = mr_mailbox_find(mr_sess_mailbox(s), name);
    if (!f) {
        tagged(s, st, tag, "NO", "[NONEXISTENT] No such mailbox");
    } else {
        f->subscribed = on;
        tagged(s, st, tag, "OK", "%s completed", on ? "SUBSCRIBE" : "UNSUBSCRIBE");
    }
    free(name);
}

static void cmd_subscribe(mr_sess *s, imap_st *st, const char *tag, int uid) { do_subscribe(s, st, tag, 1); }
static void cmd_unsubscribe(mr_sess *s, imap_st *st, const char *tag, int uid) { do_subscribe(s, st, tag, 0); }

static void cmd_append(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    /* append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
     * (RFC 3501 6.3.11, 9) */
    const mr_imaptok *t = TOK(st);
    size_t n = NTOK(st), i = 1;
    unsigned flags = MR_F_RECENT;
    time_t date = time(NULL);
    const mr_imaptok *kw_open = NULL, *lit;
    char *name;
    mr_folder *f;
    mr_msg *m;
    if (n < 2 || !mr_imaptok_is_string(&t[0]))
        { tagged(s, st, tag, "BAD", "APPEND takes a mailbox, flags, a date and a message"); return; }
    if (t[i].type == MR_IMAPTOK_OPEN) {
        kw_open = &t[i];
        for (size_t k = i + 1; k < t[i].match; k++) {
            unsigned bit;
            if (flag_of(&t[k], &bit) < 0)
                { tagged(s, st, tag, "BAD", "Invalid flag in APPEND"); return; }
            flags |= bit;
        }
        i = t[i].match + 1;
    }
    if (i < n && t[i].type == MR_IMAPTOK_QUOTED) {
        if (!parse_date_time(t[i].str, t[i].len, &date))
            { tagged(s, st, tag, "BAD", "Invalid date-time in APPEND"); return; }
        i++;
    }
    if (i + 1 != n || t[i].type != MR_IMAPTOK_LITERAL)
        { tagged(s, st, tag, "BAD", "APPEND needs the message as a literal"); return; }
    lit = &t[i];
    if (!(name = mailbox_arg(&t[0])))
        { tagged(s, st, tag, "BAD", "Invalid mailbox name"); return; }
    f = mr_mailbox_find(mr_sess_mailbox(s), name);
    if (!f || f->noselect) {
        free(name);
        { tagged(s, st, tag, "NO", "[TRYCREATE] No such mailbox"); return; }
    }
    size_t budget = MAX_SESSION_APPEND_LITERALS * mr_sess_config(s)->max_literal;
    if (lit->len > budget - (st->appended < budget ? st->appended : budget) ||
        f->count >= MAX_SESSION_MESSAGES) {
        free(name);
        tagged(s, st, tag, "NO", "[LIMIT] This session may append %zu bytes in all, or the mailbox is full",
               budget);
        return;
    }
    st->appended += lit->len;
    m = mr_folder_append(f, lit->str, lit->len, flags, date);
    if (kw_open)
        for (size_t k = (size_t)(kw_open - t) + 1; k < kw_open->match; k++)
            if (t[k].str[0] != '\\') {
                char *kw = tokdup(&t[k]);
                mr_msg_add_keyword(m, kw);
                free(kw);
            }
    mr_sess_note(s, "appended %zu bytes to %s as UID %u", lit->len, f->name, m->uid);
    if (f == st->sel) {
        mr_sess_sendf(s, "* %zu EXISTS\r\n", f->count);
        mr_sess_sendf(s, "* %zu RECENT\r\n", count_flag(f, MR_F_RECENT, 1));
    }
    free(name);
    tagged(s, st, tag, "OK", "[APPENDUID %u %u] APPEND completed", f->uidvalidity, m->uid);
}

static void cmd_idle(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    if (NTOK(st))
        { tagged(s, st, tag, "BAD", "IDLE takes no arguments"); return; }
    snprintf(st->idle_tag, sizeof st->idle_tag, "%s", tag);
    st->idling = 1;
    mr_sess_sends(s, "+ idling\r\n"); /* RFC 2177 3 */
}

/* ------------------------------------------------------------ selected */

static void cmd_close(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    if (NTOK(st))
        { tagged(s, st, tag, "BAD", "%s takes no arguments", st->cur.name); return; }
    if (strcmp(st->cur.name, "CLOSE") == 0 && !st->readonly) {
        /* RFC 9051 6.4.1: expunge, without untagged EXPUNGE responses */
        mr_folder *f = st->sel;
        for (size_t i = 0; i < f->count;)
            if (f->msgs[i]->flags & MR_F_DELETED)
                mr_folder_remove(f, i);
            else
                i++;
    }
    deselect(st);
    tagged(s, st, tag, "OK", "%s completed", st->cur.name);
}

/* Expunge \Deleted messages (in set, when given), reporting each with its
 * message number as it is at that moment (RFC 9051 7.5.1). */
static size_t expunge(mr_sess *s, mr_folder *f, const mset *set, const unsigned char *mark)
{
    size_t n = 0, orig = 0;
    for (size_t i = 0; i < f->count; orig++) {
        const mr_msg *m = f->msgs[i];
        int go = mark ? mark[orig] : (m->flags & MR_F_DELETED) && (!set || mset_has(set, m->uid));
        if (go) {
            mr_folder_remove(f, i);
            mr_sess_sendf(s, "* %zu EXPUNGE\r\n", i + 1);
            n++;
        } else {
            i++;
        }
    }
    return n;
}

static void cmd_expunge(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    mset set = {NULL, 0};
    if (st->readonly)
        { tagged(s, st, tag, "NO", "Mailbox is read-only"); return; }
    if (uid) {
        const char *err;
        if (NTOK(st) != 1)
            { tagged(s, st, tag, "BAD", "UID EXPUNGE takes a UID set"); return; }
        if ((err = mset_parse(&TOK(st)[0], st->sel, 1, 0, &set)))
            { tagged(s, st, tag, "BAD", "%s", err); return; }
    } else if (NTOK(st)) {
        { tagged(s, st, tag, "BAD", "EXPUNGE takes no arguments"); return; }
    }
    size_t n = expunge(s, st->sel, uid ? &set : NULL, NULL);
    if (n)
        mr_sess_note(s, "expunged %zu messages from %s", n, st->sel->name);
    free(set.r);
    tagged(s, st, tag, "OK", "%s completed", st->cur.name);
}

/* ---- SEARCH (RFC 3501 6.4.4) */

typedef struct sctx {
    const mr_imaptok *t;
    size_t n;
    mr_folder *f;
    const char *err;
} sctx;

static int str_arg(sctx *c, size_t *i, const mr_imaptok **out)
{
    if (*i >= c->n || !mr_imaptok_is_string(&c->t[*i])) {
        c->err = "Missing search argument";
        return 0;
    }
    *out = &c->t[(*i)++];
    return 1;
}

/* Parse one search key at *i; with m, evaluate it on message m (index
 * idx): 1 matches, 0 not; -1 on a syntax error (c->err). */
static int skey(sctx *c, size_t *i, const mr_msg *m, size_t idx, int depth)
{
    const mr_imaptok *k, *a, *b;
    if (depth > MAX_SEARCH_DEPTH) {
        c->err = "Search keys nested too deeply";
        return -1;
    }
    if (*i >= c->n) {
        c->err = "Missing search key";
        return -1;
    }
    k = &c->t[(*i)++];
    if (k->type == MR_IMAPTOK_OPEN) {
        int r = 1;
        if (*i >= k->match) {
            c->err = "Empty search key list";
            return -1;
        }
        while (*i < k->match) {
            int x = skey(c, i, m, idx, depth + 1);
            if (x < 0)
                return -1;
            r = r && x;
        }
        (*i)++; /* ")" */
        return r;
    }
    if (k->type != MR_IMAPTOK_ATOM) {
        c->err = "Invalid search key";
        return -1;
    }
    static const struct {
        const char *name;
        unsigned bit;
        int set;
    } flagkeys[] = {{"ANSWERED", MR_F_ANSWERED, 1}, {"DELETED", MR_F_DELETED, 1},
                    {"DRAFT", MR_F_DRAFT, 1},       {"FLAGGED", MR_F_FLAGGED, 1},
                    {"RECENT", MR_F_RECENT, 1},     {"SEEN", MR_F_SEEN, 1},
                    {"UNANSWERED", MR_F_ANSWERED, 0}, {"UNDELETED", MR_F_DELETED, 0},
                    {"UNDRAFT", MR_F_DRAFT, 0},     {"UNFLAGGED", MR_F_FLAGGED, 0},
                    {"UNSEEN", MR_F_SEEN, 0},       {"OLD", MR_F_RECENT, 0}};
    for (size_t q = 0; q < sizeof flagkeys / sizeof flagkeys[0]; q++)
        if (mr_imaptok_eq(k, flagkeys[q].name))
            return m ? ((m->flags & flagkeys[q].bit) != 0) == flagkeys[q].set : 0;
    if (mr_imaptok_eq(k, "ALL"))
        return m != NULL;
    if (mr_imaptok_eq(k, "NEW"))
        return m ? (m->flags & MR_F_RECENT) && !(m->flags & MR_F_SEEN) : 0;
    if (mr_imaptok_eq(k, "NOT")) {
        int x = skey(c, i, m, idx, depth + 1);
        return x < 0 ? -1 : m ? !x : 0;
    }
    if (mr_imaptok_eq(k, "OR")) {
        int x = skey(c, i, m, idx, depth + 1), y;
        if (x < 0)
            return -1;
        y = skey(c, i, m, idx, depth + 1);
        return y < 0 ? -1 : (x || y);
    }
    if (mr_imaptok_eq(k, "KEYWORD") || mr_imaptok_eq(k, "UNKEYWORD")) {
        int neg = k->str[0] == 'U' || k->str[0] == 'u', r;
        char *kw;
        if (*i >= c->n || !is_flag_atom(&c->t[*i]) || c->t[*i].str[0] == '\\') {
            c->err = "KEYWORD needs a keyword";
            return -1;
        }
        a = &c->t[(*i)++];
        if (!m)
            return 0;
        kw = tokdup(a);
        r = mr_msg_has_keyword(m, kw);
        free(kw);
        return neg ? !r : r;
    }
    static const char *const hdrkeys[] = {"FROM", "TO", "CC", "BCC", "SUBJECT"};
    for (size_t q = 0; q < sizeof hdrkeys / sizeof hdrkeys[0]; q++)
        if (mr_imaptok_eq(k, hdrkeys[q])) {
            const char *v;
            if (!str_arg(c, i, &a))
                return -1;
            if (!m)
                return 0;
            v = mr_mime_header(m->d, hdrkeys[q]);
            return v && icontains(v, a->str, a->len);
        }
    if (mr_imaptok_eq(k, "HEADER")) {
        char *h;
        const char *v;
        if (!str_arg(c, i, &a) || !str_arg(c, i, &b))
            return -1;
        if (!m)
            return 0;
        if (!(h = tokdup(a)))
            return 0;
        v = mr_mime_header(m->d, h);
        free(h);
        return v && icontains(v, b->str, b->len);
    }
    if (mr_imaptok_eq(k, "BODY") || mr_imaptok_eq(k, "TEXT")) {
        char *needle;
        int r;
        if (!str_arg(c, i, &a))
            return -1;
        if (!m)
            return 0;
        if (!(needle = tokdup(a)))
            return 0;
        r = mr_mime_contains(m->d, needle, k->str[0] == 'B' || k->str[0] == 'b') != 0;
        free(needle);
        return r;
    }
    if (mr_imaptok_eq(k, "LARGER") || mr_imaptok_eq(k, "SMALLER")) {
        uint64_t v;
        if (*i >= c->n || !mr_imaptok_number(&c->t[*i], &v)) {
            c->err = "LARGER and SMALLER need a number";
            return -1;
        }
        (*i)++;
        if (!m)
            return 0;
        return up(k->str[0]) == 'L' ? m->d->len > v : m->d->len < v;
    }
    static const char *const datekeys[] = {"BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE"};
    for (size_t q = 0; q < sizeof datekeys / sizeof datekeys[0]; q++)
        if (mr_imaptok_eq(k, datekeys[q])) {
            long long want, have;
            if (*i >= c->n || !(c->t[*i].type == MR_IMAPTOK_ATOM || c->t[*i].type == MR_IMAPTOK_QUOTED) ||
                !parse_date(c->t[*i].str, c->t[*i].len, &want)) {
                c->err = "Invalid date in search key";
                return -1;
            }
            (*i)++;
            if (!m)
                return 0;
            if (q >= 3) {
                long long sent = mr_mime_date(m->d);
                if (sent == -1)
                    return 0;
                have = sent >= 0 ? sent / 86400 : -((-sent + 86399) / 86400);
            } else {
                long long id = (long long)m->internal_date;
                have = id >= 0 ? id / 86400 : -((-id + 86399) / 86400);
            }
            switch (q % 3) {
            case 0: return have < want;
            case 1: return have == want;
            default: return have >= want;
            }
        }
    if (mr_imaptok_eq(k, "UID") || (k->len && ((k->str[0] >= '0' && k->str[0] <= '9') || k->str[0] == '*' ||
                                               k->str[0] == '$'))) {
        int byuid = mr_imaptok_eq(k, "UID");
        mset set;
        const char *err;
        int r;
        if (byuid) {
            if (*i >= c->n) {
                c->err = "UID needs a set";
                return -1;
            }
            k = &c->t[(*i)++];
        }
        if ((err = mset_parse(k, c->f, byuid, 0, &set))) {
            c->err = err;
            return -1;
        }
        r = m ? mset_msg(&set, c->f, idx, byuid) : 0;
        free(set.r);
        return r;
    }
    c->err = "Unknown search key";
    return -1;
}

static void cmd_search(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    sctx c = {TOK(st), NTOK(st), st->sel, NULL};
    size_t start = 0, i;
    if (c.n >= 2 && mr_imaptok_eq(&c.t[0], "CHARSET")) {
        if (!mr_imaptok_is_string(&c.t[1]))
            { tagged(s, st, tag, "BAD", "CHARSET needs a name"); return; }
        if (!mr_imaptok_eq(&c.t[1], "US-ASCII") && !mr_imaptok_eq(&c.t[1], "UTF-8"))
            { tagged(s, st, tag, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset"); return; }
        start = 2;
    }
    if (start >= c.n)
        { tagged(s, st, tag, "BAD", "SEARCH needs a search key"); return; }
    /* Check the syntax once, then evaluate per message. */
    for (i = start; i < c.n;)
        if (skey(&c, &i, NULL, 0, 0) < 0)
            { tagged(s, st, tag, "BAD", "%s", c.err); return; }
    mr_sess_sends(s, "* SEARCH");
    for (size_t idx = 0; idx < st->sel->count; idx++) {
        const mr_msg *m = st->sel->msgs[idx];
        int r = 1;
        for (i = start; i < c.n && r;)
            r = skey(&c, &i, m, idx, 0) > 0;
        if (r)
            mr_sess_sendf(s, " %llu", uid ? (unsigned long long)m->uid : (unsigned long long)idx + 1);
    }
    mr_sess_sends(s, "\r\n");
    tagged(s, st, tag, "OK", "%s completed", st->cur.name);
}

/* ---- FETCH (RFC 3501 6.4.5, 7.4.2) */

enum {
    F_FLAGS, F_INTERNALDATE, F_RFC822_SIZE, F_ENVELOPE, F_BODY, F_BODYSTRUCTURE, F_UID,
    F_RFC822, F_RFC822_HEADER, F_RFC822_TEXT, F_SECTION
};

typedef struct fitem {
    int kind;
    int peek;
    char sec[256];       /* F_SECTION: the section text, upper-cased */
    int partial;
    uint64_t origin, count;
} fitem;

/* section-spec (RFC 9051 9): [part *("." part) ["."]] [HEADER /
 * HEADER.FIELDS[.NOT] SP header-list / TEXT / MIME (after a part)]. */
static int valid_section(const char *s)
{
    int parts = 0;
    while (*s >= '1' && *s <= '9') {
        while (*s >= '0' && *s <= '9')
            s++;
        parts++;
        if (*s != '.')
            return *s == 0;
        s++;
        if (!(*s >= '1' && *s <= '9'))
            break;
    }
    if (!*s)
        return parts == 0;
    if (strcmp(s, "HEADER") == 0 || strcmp(s, "TEXT") == 0)
        return 1;
    if (strcmp(s, "MIME") == 0)
        return parts > 0;
    if (strncmp(s, "HEADER.FIELDS", 13) == 0) {
        s += 13;
        if (strncmp(s, ".NOT", 4) == 0)
            s += 4;
        if (s[0] != ' ' || s[1] != '(' || s[2] == ')')
            return 0;
        size_t n = strlen(s);
        return s[n - 1] == ')' && !strchr(s + 2, '(') && strchr(s + 2, ')') == s + n - 1;
    }
    return 0;
}

/* Parse one fetch-att; 0 ok. */
static int fetch_att(const mr_imaptok *t, fitem *it)
{
    static const struct {
        const char *name;
        int kind;
    } simple[] = {{"FLAGS", F_FLAGS},           {"INTERNALDATE", F_INTERNALDATE},
                  {"RFC822.SIZE", F_RFC822_SIZE}, {"ENVELOPE", F_ENVELOPE},
                  {"BODY", F_BODY},             {"BODYSTRUCTURE", F_BODYSTRUCTURE},
                  {"UID", F_UID},               {"RFC822", F_RFC822},
                  {"RFC822.HEADER", F_RFC822_HEADER}, {"RFC822.TEXT", F_RFC822_TEXT}};
    memset(it, 0, sizeof *it);
    if (t->type != MR_IMAPTOK_ATOM)
        return -1;
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (mr_imaptok_eq(t, simple[i].name)) {
            it->kind = simple[i].kind;
            return 0;
        }
    size_t p;
    if (t->len > 5 && strncmp("BODY[", (char[]){(char)up(t->str[0]), (char)up(t->str[1]), (char)up(t->str[2]),
                                               (char)up(t->str[3]), (char)t->str[4], 0}, 5) == 0) {
        p = 5;
    } else if (t->len > 10) {
        char pre[11];
        for (int i = 0; i < 10; i++)
            pre[i] = (char)up(t->str[i]);
        pre[10] = 0;
        if (strcmp(pre, "BODY.PEEK[") != 0)
            return -1;
        p = 10;
        it->peek = 1;
    } else {
        return -1;
    }
    const uint8_t *close = memchr(t->str + p, ']', t->len - p);
    if (!close || (size_t)(close - (t->str + p)) >= sizeof it->sec)
        return -1;
    size_t sl = (size_t)(close - (t->str + p));
    for (size_t i = 0; i < sl; i++)
        it->sec[i] = (char)up(t->str[p + i]);
    it->sec[sl] = 0;
    if (!valid_section(it->sec))
        return -1;
    it->kind = F_SECTION;
    p += sl + 1;
    if (p < t->len) {
        /* partial = "<" number64 "." nz-number64 ">" */
        uint64_t o = 0, c = 0;
        size_t q = p + 1, d;
        if (t->str[p] != '<' || t->str[t->len - 1] != '>')
            return -1;
        for (d = q; q < t->len && t->str[q] >= '0' && t->str[q] <= '9' && q - d < 19; q++)
            o = o * 10 + (uint64_t)(t->str[q] - '0');
        if (q == d || q >= t->len || t->str[q] != '.')
            return -1;
        for (d = ++q; q < t->len && t->str[q] >= '0' && t->str[q] <= '9' && q - d < 19; q++)
            c = c * 10 + (uint64_t)(t->str[q] - '0');
        if (q == d || q != t->len - 1 || c == 0)
            return -1;
        it->partial = 1;
        it->origin = o;
        it->count = c;
    }
    return 0;
}

static void send_section(mr_sess *s, mr_buf *b, mr_msg *m, const char *label, const char *sec,
                         const fitem *it)
{
    mr_buf_reset(b);
    if (strcmp(sec, "") == 0)
        mr_buf_add(b, m->d->data, m->d->len);
    else
        (void)mr_mime_section(m->d, sec, strlen(sec), b);
    const uint8_t *p = b->data;
    size_t n = b->len;
    if (it && it->partial) {
        if (it->origin >= n) {
            n = 0;
        } else {
            p += it->origin;
            n -= (size_t)it->origin;
            if (it->count < n)
                n = (size_t)it->count;
        }
        mr_sess_sendf(s, "%s<%llu> ", label, (unsigned long long)it->origin);
    } else {
        mr_sess_sendf(s, "%s ", label);
    }
    send_literal(s, p ? p : (const uint8_t *)"", n);
}

static void cmd_fetch(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    const mr_imaptok *t = TOK(st);
    size_t n = NTOK(st), nit = 0;
    fitem *items;
    mset set;
    const char *err;
    int want_uid = 0, want_flags = 0, sets_seen = 0;
    mr_folder *f = st->sel;
    if (n < 2)
        { tagged(s, st, tag, "BAD", "FETCH takes a message set and items"); return; }
    if ((err = mset_parse(&t[0], f, uid, 1, &set)))
        { tagged(s, st, tag, "BAD", "%s", err); return; }
    items = calloc(n + 4, sizeof *items);
    if (!items)
        abort();
    const mr_imaptok *a = &t[1], *end = &t[n];
    if (a->type == MR_IMAPTOK_OPEN) {
        if (a->match != n - 1 || n == 3) {
            free(set.r), free(items);
            { tagged(s, st, tag, "BAD", "Invalid FETCH item list"); return; }
        }
        end = &t[n - 1];
        a++;
    } else if (n != 2) {
        free(set.r), free(items);
        { tagged(s, st, tag, "BAD", "FETCH items must be in a list"); return; }
    } else if (mr_imaptok_eq(a, "ALL") || mr_imaptok_eq(a, "FAST") || mr_imaptok_eq(a, "FULL")) {
        /* RFC 3501 6.4.5 macros */
        int full = mr_imaptok_eq(a, "FULL"), all = mr_imaptok_eq(a, "ALL");
        items[nit++].kind = F_FLAGS;
        items[nit++].kind = F_INTERNALDATE;
        items[nit++].kind = F_RFC822_SIZE;
        if (all || full)
            items[nit++].kind = F_ENVELOPE;
        if (full)
            items[nit++].kind = F_BODY;
        a = end;
    }
    for (; a < end; a++) {
        if (fetch_att(a, &items[nit]) != 0) {
            free(set.r), free(items);
            { tagged(s, st, tag, "BAD", "Invalid FETCH item"); return; }
        }
        nit++;
    }
    for (size_t i = 0; i < nit; i++) {
        want_uid |= items[i].kind == F_UID;
        want_flags |= items[i].kind == F_FLAGS;
        sets_seen |= (items[i].kind == F_SECTION && !items[i].peek) || items[i].kind == F_RFC822 ||
                     items[i].kind == F_RFC822_TEXT;
    }
    mr_buf b = MR_BUF_INIT;
    for (size_t i = 0; i < f->count; i++) {
        mr_msg *m = f->msgs[i];
        int first = 1, seen_now = 0;
        if (!mset_msg(&set, f, i, uid))
            continue;
        if (sets_seen && !st->readonly && !(m->flags & MR_F_SEEN)) {
            m->flags |= MR_F_SEEN; /* RFC 3501 6.4.5: BODY[] sets \Seen */
            seen_now = 1;
        }
        mr_sess_sendf(s, "* %zu FETCH (", i + 1);
        if (uid && !want_uid) {
            mr_sess_sendf(s, "UID %u", m->uid);
            first = 0;
        }
        for (size_t k = 0; k < nit; k++) {
            const fitem *it = &items[k];
            if (!first)
                mr_sess_send(s, " ", 1);
            first = 0;
            switch (it->kind) {
            case F_FLAGS:
                mr_sess_sends(s, "FLAGS ");
                send_flags(s, m);
                break;
            case F_UID:
                mr_sess_sendf(s, "UID %u", m->uid);
                break;
            case F_INTERNALDATE:
                mr_sess_sends(s, "INTERNALDATE ");
                send_date_time(s, m->internal_date);
                break;
            case F_RFC822_SIZE:
                mr_sess_sendf(s, "RFC822.SIZE %zu", m->d->len);
                break;
            case F_ENVELOPE:
                mr_buf_reset(&b);
                mr_mime_envelope(m->d, &b);
                mr_sess_sends(s, "ENVELOPE ");
                mr_sess_send(s, b.data, b.len);
                break;
            case F_BODY:
            case F_BODYSTRUCTURE:
                mr_buf_reset(&b);
                mr_mime_bodystructure(m->d, it->kind == F_BODYSTRUCTURE, &b);
                mr_sess_sends(s, it->kind == F_BODY ? "BODY " : "BODYSTRUCTURE ");
                mr_sess_send(s, b.data, b.len);
                break;
            case F_RFC822:
                send_section(s, &b, m, "RFC822", "", NULL);
                break;
            case F_RFC822_HEADER:
                send_section(s, &b, m, "RFC822.HEADER", "HEADER", NULL);
                break;
            case F_RFC822_TEXT:
                send_section(s, &b, m, "RFC822.TEXT", "TEXT", NULL);
                break;
            case F_SECTION: {
                char label[300];
                snprintf(label, sizeof label, "BODY[%s]", it->sec);
                send_section(s, &b, m, label, it->sec, it);
                break;
            }
            }
        }
        if (seen_now && !want_flags) {
            mr_sess_sends(s, " FLAGS ");
            send_flags(s, m);
        }
        mr_sess_sends(s, ")\r\n");
    }
    mr_buf_free(&b);
    free(set.r);
    free(items);
    tagged(s, st, tag, "OK", "%s completed", st->cur.name);
}

static void cmd_store(mr_sess *s, imap_st *st, const char *tag, int uid)
{
    /* store = "STORE" SP sequence-set SP store-att-flags;
     * store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag))) */
    const mr_imaptok *t = TOK(st);
    size_t n = NTOK(st), fl, fe;
    int mode = 0, silent = 0;
    unsigned bits = 0;
    mset set;
    const char *err;
    mr_folder *f = st->sel;
    if (n < 3 || t[1].type != MR_IMAPTOK_ATOM)
        { tagged(s, st, tag, "BAD", "STORE takes a message set, an item and flags"); return; }
    {
        const uint8_t *p = t[1].str;
        size_t l = t[1].len;
        char item[16];
        if (l && (p[0] == '+' || p[0] == '-')) {
            mode = p[0] == '+' ? 1 : -1;
            p++, l--;
        }
        if (l >= sizeof item)
            { tagged(s, st, tag, "BAD", "Invalid STORE item"); return; }
        for (size_t i = 0; i < l; i++)
            item[i] = (char)up(p[i]);
        item[l] = 0;
        if (strcmp(item, "FLAGS.SILENT") == 0)
            silent = 1;
        else if (strcmp(item, "FLAGS") != 0)
            { tagged(s, st, tag, "BAD", "Invalid STORE item"); return; }
    }
    if (t[2].type == MR_IMAPTOK_OPEN) {
        if (t[2].match != n - 1)
            { tagged(s, st, tag, "BAD", "Invalid flag list"); return; }
        fl = 3, fe = n - 1;
    } else {
        fl = 2, fe = n;
    }
    for (size_t i = fl; i < fe; i++) {
        unsigned bit;
        if (flag_of(&t[i], &bit) < 0)
            { tagged(s, st, tag, "BAD", "Invalid flag"); return; }
        bits |= bit;
    }
    if (st->readonly)
        { tagged(s, st, tag, "NO", "Mailbox is read-only"); return; }
    if ((err = mset_parse(&t[0], f, uid, 1, &set)))
        { tagged(s, st, tag, "BAD", "%s", err); return; }
    for (size_t i = 0; i < f->count; i++) {
        mr_msg *m = f->msgs[i];
        if (!mset_msg(&set, f, i, uid))
            continue;
        if (mode == 0) {
            m->flags = (m->flags & MR_F_RECENT) | bits;
            while (m->nkeywords) {
                char *kw = m->keywords[0];
                size_t before = m->nkeywords;
                mr_msg_remove_keyword(m, kw);
                if (m->nkeywords == before)
                    break;
            }
        } else if (mode > 0) {
            m->flags |= bits;
        } else {
            m->flags &= ~bits;
        }
        for (size_t k = fl; k < fe; k++)
            if (t[k].str[0] != '\\') {
                char *kw = tokdup(&t[k]);
                if (mode >= 0)
                    mr_msg_add_keyword(m, kw);
                else
                    mr_msg_remove_keyword(m, kw);
                free(kw);
            }
        if (!silent) {
            mr_sess_sendf(s, "* %zu FETCH (", i + 1);
            if (uid)
                mr_sess_sendf(s, "UID %u ", m->uid);
            mr_sess_sends(s, "FLAGS ");
            send_flags(s, m);
            mr_sess_sends(s, ")\r\n");
        }
    }
    free(set.r);
    tagged(s, st, tag, "OK", "%s completed", st->cur.name);
}

static void do_copy(mr_sess *s, imap_st *st, const char *tag, int uid, int move)
{
    const mr_imaptok *t = TOK(st);
    mr_folder *f = st->sel, *dst;
    mset set;
    const char *err;
    char *name;
    size_t count = f->count, nc = 0;
    uint32_t *su, *du;
    unsigned char *mark;
    uint32_t validity;
    if (NTOK(st) != 2 || !mr_imaptok_is_string(&t[1]))
        { tagged(s, st, tag, "BAD", "%s takes a message set and a mailbox", st->cur.name); return; }
    if (move && st->readonly)
        { tagged(s, st, tag, "NO", "Mailbox is read-only"); return; }
    if ((err = mset_parse(&t[0], f, uid, 1, &set)))
        { tagged(s, st, tag, "BAD", "%s", err); return; }
    if (!(name = mailbox_arg(&t[1]))) {
        free(set.r);
        { tagged(s, st, tag, "BAD", "Invalid mailbox name"); return; }
    }
    dst = mr_mailbox_find(mr_sess_mailbox(s), name);
    free(name);
    if (!dst || dst->noselect) {
        free(set.r);
        { tagged(s, st, tag, "NO", "[TRYCREATE] No such mailbox"); return; }
    }
    if (!move) {
        const mr_mailbox *mb = mr_sess_mailbox(s);
        size_t total = 0, want = 0;
        for (size_t k = 0; k < mb->nfolders; k++)
            total += mb->folders[k]->count;
        for (size_t k = 0; k < count; k++)
            want += (size_t)mset_msg(&set, f, k, uid);
        if (want > MAX_SESSION_MESSAGES || total > MAX_SESSION_MESSAGES - want) {
            free(set.r);
            tagged(s, st, tag, "NO", "[LIMIT] The mailbox would hold more than %u messages",
                   MAX_SESSION_MESSAGES);
            return;
        }
    }
    su = calloc(count + 1, sizeof *su);
    du = calloc(count + 1, sizeof *du);
    mark = calloc(count + 1, 1);
    if (!su || !du || !mark)
        abort();
    for (size_t i = 0; i < count; i++) {
        if (!mset_msg(&set, f, i, uid))
            continue;
        mr_msg *c = mr_folder_copy_in(dst, f->msgs[i]);
        c->flags |= MR_F_RECENT;
        su[nc] = f->msgs[i]->uid;
        du[nc++] = c->uid;
        mark[i] = 1;
    }
    validity = dst->uidvalidity;
    if (nc)
        mr_sess_note(s, "%s %zu messages from %s to %s", move ? "moved" : "copied", nc, f->name,
                     dst->name);
    if (dst == f && nc) {
        mr_sess_sendf(s, "* %zu EXISTS\r\n", f->count);
        mr_sess_sendf(s, "* %zu RECENT\r\n", count_flag(f, MR_F_RECENT, 1));
    }
    if (move) {
        /* RFC 6851 4.3: COPYUID in an untagged OK before the EXPUNGEs. */
        if (nc) {
            mr_sess_sendf(s, "* OK [COPYUID %u ", validity);
            send_uidset(s, su, nc);
            mr_sess_send(s, " ", 1);
            send_uidset(s, du, nc);
            mr_sess_sends(s, "] Moved\r\n");
            /* only the originals (the first count messages) go */
            unsigned char *m2 = calloc(f->count + 1, 1);
            if (!m2)
                abort();
            memcpy(m2, mark, count);
            expunge(s, f, NULL, m2);
            free(m2);
        }
        tagged(s, st, tag, "OK", "%s completed", st->cur.name);
    } else if (nc) {
        char buf[400];
        size_t bl;
        /* build "[COPYUID v set set]" text into the tagged line */
        mr_sess_sendf(s, "%s OK [COPYUID %u ", tag, validity);
        send_uidset(s, su, nc);
        mr_sess_send(s, " ", 1);
        send_uidset(s, du, nc);
        snprintf(buf, sizeof buf, "] %s completed\r\n", st->cur.name);
        bl = strlen(buf);
        mr_sess_send(s, buf, bl);
        st->bads = 0;
    } else {
        tagged(s, st, tag, "OK", "%s completed", st->cur.name);
    }
    free(su);
    free(du);
    free(mark);
    free(set.r);
}

static void cmd_copy(mr_sess *s, imap_st *st, const char *tag, int uid) { do_copy(s, st, tag, uid, 0); }
static void cmd_move(mr_sess *s, imap_st *st, const char *tag, int uid) { do_copy(s, st, tag, uid, 1); }

/* ------------------------------------------------------------ dispatch */

static const struct command {
    const char *name;
    handler h;
    int states;
    int uid;
} commands[] = {
    {"CAPABILITY", cmd_capability, S_ANY, 0},
    {"NOOP", cmd_noop, S_ANY, 0},
    {"LOGOUT", cmd_logout, S_ANY, 0},
    {"ID", cmd_id, S_ANY, 0},
    {"STARTTLS", cmd_starttls, S_NOTAUTH, 0},
    {"LOGIN", cmd_login, S_NOTAUTH, 0},
    {"AUTHENTICATE", cmd_authenticate, S_NOTAUTH, 0},
    {"ENABLE", cmd_enable, S_AUTH, 0},
    {"NAMESPACE", cmd_namespace, S_AUTH | S_SELECTED, 0},
    {"LIST", cmd_list, S_AUTH | S_SELECTED, 0},
    {"LSUB", cmd_lsub, S_AUTH | S_SELECTED, 0},
    {"STATUS", cmd_status, S_AUTH | S_SELECTED, 0},
    {"SELECT", cmd_select, S_AUTH | S_SELECTED, 0},
    {"EXAMINE", cmd_examine, S_AUTH | S_SELECTED, 0},
    {"CREATE", cmd_create, S_AUTH | S_SELECTED, 0},
    {"DELETE", cmd_delete, S_AUTH | S_SELECTED, 0},
    {"RENAME", cmd_rename, S_AUTH | S_SELECTED, 0},
    {"SUBSCRIBE", cmd_subscribe, S_AUTH | S_SELECTED, 0},
    {"UNSUBSCRIBE", cmd_unsubscribe, S_AUTH | S_SELECTED, 0},
    {"APPEND", cmd_append, S_AUTH | S_SELECTED, 0},
    {"IDLE", cmd_idle, S_AUTH | S_SELECTED, 0},
    {"CHECK", cmd_noop, S_SELECTED, 0},
    {"CLOSE", cmd_close, S_SELECTED, 0},
    {"UNSELECT", cmd_close, S_SELECTED, 0},
    {"EXPUNGE", cmd_expunge, S_SELECTED, 0},
    {"UID EXPUNGE", cmd_expunge, S_SELECTED, 1},
    {"SEARCH", cmd_search, S_SELECTED, 0},
    {"UID SEARCH", cmd_search, S_SELECTED, 1},
    {"FETCH", cmd_fetch, S_SELECTED, 0},
    {"UID FETCH", cmd_fetch, S_SELECTED, 1},
    {"STORE", cmd_store, S_SELECTED, 0},
    {"UID STORE", cmd_store, S_SELECTED, 1},
    {"COPY", cmd_copy, S_SELECTED, 0},
    {"UID COPY", cmd_copy, S_SELECTED, 1},
    {"MOVE", cmd_move, S_SELECTED, 0},
    {"UID MOVE", cmd_move, S_SELECTED, 1},
};

static handler find_command(const char *name, int *states, int *uid)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) {
            *states = commands[i].states;
            *uid = commands[i].uid;
            return commands[i].h;
        }
    return NULL;
}

static void imap_execute(mr_sess *s, void *vst, const mr_cmd *cmd)
{
    imap_st *st = vst;
    const char *tag = cmd->tag;
    int states = 0, uid = 0;
    handler h;
    if (st->in_sasl) {
        if (strcmp(cmd->name, "<sasl>") == 0)
            sasl_line(s, st, cmd);
        return;
    }
    if (st->idling) {
        st->idling = 0;
        if (strcmp(cmd->name, "DONE") == 0) {
            if (cmd->args_len)
                { tagged(s, st, st->idle_tag, "BAD", "Expected DONE"); return; }
            { tagged(s, st, st->idle_tag, "OK", "IDLE terminated"); return; }
        }
        tagged(s, st, st->idle_tag, "BAD", "Expected DONE"); /* RFC 2177 3 */
        return;
    }
    if (strcmp(cmd->name, "DONE") == 0 || strcmp(cmd->name, "<sasl>") == 0) {
        tagged(s, st, "*", "BAD", "Unexpected %s", cmd->name);
        return;
    }
    h = find_command(cmd->name, &states, &uid);
    if (!h)
        { tagged(s, st, tag, "BAD", "Unknown command"); return; }
    if (!(states & st->state))
        { tagged(s, st, tag, "BAD", "Command not valid in this state"); return; }
    if (mr_imapcmd_tokenize(&st->tk, cmd->args, cmd->args_len) != 0)
        { tagged(s, st, tag, "BAD", "%s at byte %zu", st->tk.err.message, st->tk.err.offset); return; }
    h(s, st, tag, uid);
}

const mr_proto mr_proto_imap = {
    "imap",
    sizeof(imap_st),
    imap_init,
    imap_fini,
    imap_greeting,
    imap_input,
    imap_execute,
    imap_error_reply,
    imap_tls_started,
};
