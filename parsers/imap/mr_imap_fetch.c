/*
 * mr_imap_fetch.c - typed FETCH data: item names, ENVELOPE, BODY and
 * BODYSTRUCTURE, date-time.
 *
 * Rules: RFC 9051 7.5.2 (FETCH response) and 9 (msg-att, envelope,
 * address, body, section, date-time); RFC 3501 7.4.2 and 9 for IMAP4rev1
 * servers; BINARY (RFC 3516 4.3, 7), MODSEQ (RFC 7162 3.1.4, 7), EMAILID
 * and THREADID (RFC 8474), SAVEDATE (RFC 8514), PREVIEW (RFC 8970).
 *
 * The input is the generic value tree read by mr_imap.c; everything here
 * only walks that tree (no byte of the stream is read directly) and
 * allocates its results in the response's store.  Body structures nest:
 * each level counts in c->depth against limits.max_depth, so recursion is
 * bounded.
 *
 * Leniency.  Real servers deviate from the grammar in a few well-known
 * ways; each accepted deviation records a strict-mode diagnostic and the
 * decoded result says what a robust client would take it to mean:
 *   - "()" where a parameter list, disposition, language list or address
 *     list is expected (the grammar wants NIL or at least one element),
 *     and FLAGS NIL (taken as no flags);
 *   - NIL, "" or an atom where a media type, subtype or string is expected;
 *   - a parameter list with an odd number of strings (the last name gets
 *     no value) or NIL values;
 *   - body-fld-octets quoted, NIL or negative ("-1", sent by some servers
 *     for unknown sizes): a quoted number is taken as the number; NIL and
 *     negative sizes are taken as 0, i.e. "unknown";
 *   - TEXT or MESSAGE/RFC822 parts without body-fld-lines (has_lines 0);
 *   - MESSAGE/RFC822 sent as a basic part, without envelope and body;
 *   - a multipart with no parts ("MIXED") or no subtype;
 *   - a disposition that is a bare string or a one-element list;
 *   - extension data in a BODY (not BODYSTRUCTURE) response, and
 *     body-extension data after body-fld-loc (kept in extensions);
 *   - address groups that do not nest properly; an address with a NIL
 *     mailbox but a host;
 *   - date-times with a single-digit day not padded with a space, or with
 *     no zone (taken as +0000), or sent as a literal;
 *   - MODSEQ and EMAILID without their parentheses, EMAILID NIL, PREVIEW
 *     with a modifier list (drafts of RFC 8970), BODY.PEEK[...] and
 *     BINARY.PEEK[...] echoed back, a literal8 outside BINARY[];
 *   - UID 0, numbers past their 32- or 63-bit range, sections that are not
 *     a section-spec, objectids with characters RFC 8474 does not allow.
 * An unknown item (or a known name with an unexpected section) is kind
 * OTHER with its value kept, not an error.
 * Shapes no reading can make sense of return MR_IMAP_DEC_BAD with the
 * offset of the offending value.
 */
#include <string.h>

#include "mr_imap_int.h"

#define REF_SYNTAX "RFC 9051 9"
#define REF_FETCH "RFC 9051 7.5.2"
#define REF_ENVELOPE "RFC 9051 7.5.2"

static const char DEPTH_DETAIL[] = "body structure nested deeper than limits.max_depth";

/* ------------------------------------------------------------ small helpers */

static int is_number(const mr_imap_value *v) { return v && v->type == MR_IMAP_V_NUMBER; }

/*
 * An nstring field (RFC 9051 9, nstring).  Lenient: an atom or number is
 * taken as the string it spells.  A list is BAD.
 */
static int get_nstring(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_nstring *out,
                       const char *bad_detail)
{
    *out = v;
    if (mr_imap_value_is_nil(v) || mr_imap_is_string(v))
        return MR_IMAP_DEC_OK;
    if (mr_imap_is_atomic(v)) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "an atom where a string or NIL is expected");
        return MR_IMAP_DEC_OK;
    }
    return mr_imap_bad(c, v->offset, bad_detail);
}

/*
 * Where the grammar has "(" 1*x ")" / nil: 1 when v is a list with
 * elements to read.  Otherwise 0 and *rc: OK for NIL and, lenient, for
 * "()" (strict diagnostic empty_msg); BAD with bad_detail for anything else.
 */
static int list_or_nil(mr_imap_dctx *c, const mr_imap_value *v, const char *bad_detail, const char *empty_msg,
                       int *rc)
{
    *rc = MR_IMAP_DEC_OK;
    if (mr_imap_value_is_nil(v))
        return 0;
    if (!mr_imap_is_list(v)) {
        *rc = mr_imap_bad(c, v->offset, bad_detail);
        return 0;
    }
    if (v->n_items == 0) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, empty_msg);
        return 0;
    }
    return 1;
}

/* Digits only, fitting uint64_t. */
static int span_u64(mr_span s, uint64_t *out)
{
    mr_cursor cur = mr_cur_from_span(s);
    return mr_cur_get_u64(&cur, out) && mr_cur_empty(&cur);
}

/* "-" followed by digits. */
static int span_negative(mr_span s)
{
    mr_cursor cur = mr_cur_from_span(s);
    uint64_t n;
    return mr_cur_accept(&cur, '-') && mr_cur_get_u64(&cur, &n) && mr_cur_empty(&cur);
}

/* ------------------------------------------------------------ date-time */

enum {
    TQ_DAY1 = 1u << 0,   /* single-digit day without its padding space */
    TQ_NOZONE = 1u << 1  /* no zone: +0000 assumed */
};

static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar, for
 * 1 <= y <= 9999.  Counts from a year starting on March 1 (so the leap
 * day is the last day of its year), in 400-year eras of 146097 days.
 */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);          /* >= 0 for y >= 1 */
    int64_t era = yy / 400;
    int64_t yoe = yy - era * 400;                /* [0, 399] */
    int64_t mp = m > 2 ? m - 3 : m + 9;          /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;    /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;          /* 719468: 0000-03-01 to 1970-01-01 */
}

/*
 * date-time without its quotes (RFC 9051 9): date-day-fixed "-" date-month
 * "-" date-year SP time SP zone.  Also accepted, with a bit in *quirks:
 * a single-digit day (TQ_DAY1); with allow_nozone, no zone (TQ_NOZONE).
 */
static int parse_time_q(mr_span s, mr_imap_time *out, int allow_nozone, unsigned *quirks)
{
    mr_cursor cur = mr_cur_from_span(s);
    unsigned day, year, hh, mm, ss, zone;
    uint8_t ch;
    *quirks = 0;

    /* date-day-fixed = (SP DIGIT) / 2DIGIT */
    if (mr_cur_accept(&cur, ' ')) {
        if (!mr_cur_get_digits(&cur, 1, &day))
            return 0;
    } else if (!mr_cur_get_digits(&cur, 2, &day)) {
        if (!mr_cur_get_digits(&cur, 1, &day))
            return 0;
        *quirks |= TQ_DAY1;
    }
    if (!mr_cur_accept(&cur, '-'))
        return 0;
    int month = 0;
    for (int i = 0; i < 12 && !month; i++)
        if (mr_cur_accept_str_ci(&cur, month_names[i]))
            month = i + 1;
    if (!month || !mr_cur_accept(&cur, '-') || !mr_cur_get_digits(&cur, 4, &year))
        return 0;
    if (!mr_cur_accept(&cur, ' ') || !mr_cur_get_digits(&cur, 2, &hh) || !mr_cur_accept(&cur, ':') ||
        !mr_cur_get_digits(&cur, 2, &mm) || !mr_cur_accept(&cur, ':') ||
        !mr_cur_get_digits(&cur, 2, &ss))
        return 0;
    int sign = 0;
    zone = 0;
    if (mr_cur_empty(&cur) && allow_nozone) {
        *quirks |= TQ_NOZONE;
    } else {
        if (!mr_cur_accept(&cur, ' ') || !mr_cur_get_u8(&cur, &ch) || (ch != '+' && ch != '-') ||
            !mr_cur_get_digits(&cur, 4, &zone) || !mr_cur_empty(&cur))
            return 0;
        sign = ch == '-' ? -1 : 1;
    }
    /* Ranges: year 1-9999, a real day of that month, a leap second at
     * most, zone hours < 24 and minutes < 60. */
    if (year < 1 || day < 1 || (int)day > days_in_month((int)year, month) || hh > 23 || mm > 59 ||
        ss > 60 || zone / 100 > 23 || zone % 100 > 59)
        return 0;

    mr_imap_time t;
    t.year = (int)year;
    t.month = month;
    t.day = (int)day;
    t.hour = (int)hh;
    t.minute = (int)mm;
    t.second = (int)ss;
    t.zone = sign * (int)(zone / 100 * 60 + zone % 100);
    /* zone = local time - UTC, so UTC = local - zone (RFC 9051 9, zone). */
    t.unix_time = days_from_civil(t.year, t.month, t.day) * 86400 + (int64_t)t.hour * 3600 +
                  (int64_t)t.minute * 60 + t.second - (int64_t)t.zone * 60;
    *out = t;
    return 1;
}

int mr_imap_parse_time(mr_span s, mr_imap_time *out)
{
    unsigned quirks;
    return parse_time_q(s, out, 0, &quirks);
}

/* A date-time value (INTERNALDATE, SAVEDATE): a quoted string, checked. */
static int decode_time(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_time *out,
                       const char *bad_detail)
{
    unsigned quirks;
    if (!mr_imap_is_string(v) || !parse_time_q(v->str, out, 1, &quirks))
        return mr_imap_bad(c, v->offset, bad_detail);
    if (v->type != MR_IMAP_V_QUOTED)
        mr_imap_diag(c, v->offset, REF_SYNTAX, "date-time sent as a literal, not a quoted string");
    if (quirks & TQ_DAY1)
        mr_imap_diag(c, v->offset, REF_SYNTAX,
                     "date-time day of one digit not padded with a space (date-day-fixed)");
    if (quirks & TQ_NOZONE)
        mr_imap_diag(c, v->offset, REF_SYNTAX, "date-time without a zone; +0000 assumed");
    return MR_IMAP_DEC_OK;
}

/* ------------------------------------------------------------ ENVELOPE */

/* One address: "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")". */
static int decode_address(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_address *a)
{
    static const char detail[] = "an address field is not a string or NIL";
    if (!mr_imap_is_list(v) || v->n_items != 4)
        return mr_imap_bad(c, v->offset, "an address is not a list of 4 fields (name adl mailbox host)");
    int rc;
    if ((rc = get_nstring(c, &v->items[0], &a->name, detail)) ||
        (rc = get_nstring(c, &v->items[1], &a->adl, detail)) ||
        (rc = get_nstring(c, &v->items[2], &a->mailbox, detail)) ||
        (rc = get_nstring(c, &v->items[3], &a->host, detail)))
        return rc;
    /* Group syntax (RFC 9051 7.5.2): host NIL marks a group; a NIL mailbox
     * ends it, a non-NIL one starts it and holds the group name. */
    if (mr_imap_value_is_nil(a->host))
        a->kind = mr_imap_value_is_nil(a->mailbox) ? MR_IMAP_ADDR_GROUP_END : MR_IMAP_ADDR_GROUP_START;
    else {
        a->kind = MR_IMAP_ADDR_MAILBOX;
        if (mr_imap_value_is_nil(a->mailbox))
            mr_imap_diag(c, v->offset, REF_ENVELOPE, "address with a NIL mailbox but a host");
    }
    return MR_IMAP_DEC_OK;
}

/* env-from etc.: "(" 1*address ")" / nil.  Lenient: "()". */
static int decode_addresses(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_addresses *out)
{
    int rc;
    memset(out, 0, sizeof *out);
    out->nil = mr_imap_value_is_nil(v);
    if (!list_or_nil(c, v, "an envelope address list is not a list or NIL", "empty address list; NIL expected",
                     &rc))
        return rc;
    mr_imap_address *a = mr_imap_alloc_zero(c, v->n_items, sizeof *a);
    if (!a)
        return MR_IMAP_DEC_NOMEM;
    int in_group = 0;
    for (size_t i = 0; i < v->n_items; i++) {
        rc = decode_address(c, &v->items[i], &a[i]);
        if (rc)
            return rc;
        /* RFC 5322 3.4: groups do not nest, and each one is closed. */
        if (a[i].kind == MR_IMAP_ADDR_GROUP_START) {
            if (in_group)
                mr_imap_diag(c, v->items[i].offset, REF_ENVELOPE,
                             "address group started inside another group");
            in_group = 1;
        } else if (a[i].kind == MR_IMAP_ADDR_GROUP_END) {
            if (!in_group)
                mr_imap_diag(c, v->items[i].offset, REF_ENVELOPE,
                             "end-of-group marker without a group start");
            in_group = 0;
        }
    }
    if (in_group)
        mr_imap_diag(c, v->offset, REF_ENVELOPE, "address group not closed by an end-of-group marker");
    out->items = a;
    out->n = v->n_items;
    return MR_IMAP_DEC_OK;
}

/* envelope (RFC 9051 9): a list of 10 fields. */
static int decode_envelope(mr_imap_dctx *c, const mr_imap_value *v, const mr_imap_envelope **out)
{
    static const char detail[] = "an envelope field is not a string or NIL";
    if (!mr_imap_is_list(v))
        return mr_imap_bad(c, v->offset, "ENVELOPE is not a parenthesised list");
    if (v->n_items < 10)
        return mr_imap_bad(c, v->offset, "ENVELOPE has fewer than 10 fields");
    if (v->n_items > 10)
        mr_imap_diag(c, v->items[10].offset, REF_SYNTAX, "ENVELOPE has more than 10 fields; extra ignored");
    mr_imap_envelope *e = mr_imap_alloc_zero(c, 1, sizeof *e);
    if (!e)
        return MR_IMAP_DEC_NOMEM;
    const mr_imap_value *f = v->items;
    int rc;
    if ((rc = get_nstring(c, &f[0], &e->date, detail)) ||
        (rc = get_nstring(c, &f[1], &e->subject, detail)) ||
        (rc = decode_addresses(c, &f[2], &e->from)) ||
        (rc = decode_addresses(c, &f[3], &e->sender)) ||
        (rc = decode_addresses(c, &f[4], &e->reply_to)) ||
        (rc = decode_addresses(c, &f[5], &e->to)) ||
        (rc = decode_addresses(c, &f[6], &e->cc)) ||
        (rc = decode_addresses(c, &f[7], &e->bcc)) ||
        (rc = get_nstring(c, &f[8], &e->in_reply_to, detail)) ||
        (rc = get_nstring(c, &f[9], &e->message_id, detail)))
        return rc;
    *out = e;
    return MR_IMAP_DEC_OK;
}

/* ------------------------------------------------------------ BODYSTRUCTURE */

/*
 * body-fld-param = "(" string SP string *(SP string SP string) ")" / nil.
 * Lenient: "()" (no pairs), an odd count (the last name has value NULL),
 * NIL or atom names/values.
 */
static int decode_params(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_params *out)
{
    int rc;
    memset(out, 0, sizeof *out);
    out->nil = mr_imap_value_is_nil(v);
    if (!list_or_nil(c, v, "a body parameter list is not a list or NIL", "empty body parameter list; NIL expected",
                     &rc))
        return rc;
    if (v->n_items % 2)
        mr_imap_diag(c, v->items[v->n_items - 1].offset, REF_SYNTAX,
                     "body parameter name without a value");
    size_t n = (v->n_items + 1) / 2;
    mr_imap_param *p = mr_imap_alloc_zero(c, n, sizeof *p);
    if (!p)
        return MR_IMAP_DEC_NOMEM;
    for (size_t i = 0; i < v->n_items; i++) {
        const mr_imap_value *e = &v->items[i];
        if (mr_imap_is_list(e))
            return mr_imap_bad(c, e->offset, "a body parameter is a list, not a string");
        if (!mr_imap_is_string(e))
            mr_imap_diag(c, e->offset, REF_SYNTAX,
                         mr_imap_value_is_nil(e) ? "body parameter NIL; a string is expected"
                                   : "body parameter sent as an atom, not a string");
        if (i % 2 == 0)
            p[i / 2].name = e;
        else
            p[i / 2].value = e;
    }
    out->items = p;
    out->n = n;
    return MR_IMAP_DEC_OK;
}

/* media type or subtype: a string.  Lenient: NIL, "" or an atom. */
static int get_media(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_nstring *out)
{
    *out = v;
    if (mr_imap_is_list(v))
        return mr_imap_bad(c, v->offset, "a media type or subtype is a list, not a string");
    if (mr_imap_value_is_nil(v))
        mr_imap_diag(c, v->offset, REF_SYNTAX, "media type or subtype NIL; a string is expected");
    else if (!mr_imap_is_string(v))
        mr_imap_diag(c, v->offset, REF_SYNTAX, "media type or subtype sent as an atom, not a string");
    else if (v->str.len == 0)
        mr_imap_diag(c, v->offset, REF_SYNTAX, "empty media type or subtype");
    return MR_IMAP_DEC_OK;
}

/*
 * body-fld-octets = number.  Lenient: a quoted number is that number;
 * NIL and negative numbers ("-1", some servers' way of saying "unknown",
 * which the value reader sees as an atom) are taken as 0.
 */
/* digits ["." digits] [("e" / "E") ["+" / "-"] digits], below 2^53: its integer part. */
static int span_float(mr_span s, uint64_t *out)
{
    mr_cursor cur = mr_cur_from_span(s);
    mr_span ip, fp = {NULL, 0}, ep = {NULL, 0};
    if (!mr_cur_take_class(&cur, MR_C_DIGIT, &ip) || ip.len > 15)
        return 0;
    if (mr_cur_accept(&cur, '.') && !mr_cur_take_class(&cur, MR_C_DIGIT, &fp))
        return 0;
    int neg = 0;
    if (mr_cur_accept(&cur, 'e') || mr_cur_accept(&cur, 'E')) {
        if (!mr_cur_accept(&cur, '+'))
            neg = mr_cur_accept(&cur, '-');
        if (!mr_cur_take_class(&cur, MR_C_DIGIT, &ep) || ep.len > 2)
            return 0;
    }
    if (!mr_cur_empty(&cur) || (fp.len == 0 && ep.len == 0))
        return 0;
    unsigned e = 0;
    for (size_t i = 0; i < ep.len; i++)
        e = e * 10 + (unsigned)(ep.ptr[i] - '0');
    /* value = digits of ip and fp, shifted by e - fp.len */
    uint64_t v = 0;
    long shift = neg ? -(long)e : (long)e;
    for (size_t i = 0; i < ip.len; i++)
        v = v * 10 + (uint64_t)(ip.ptr[i] - '0');
    for (size_t i = 0; i < fp.len && shift > 0; i++, shift--) {
        if (v > (UINT64_C(1) << 53) / 10)
            return 0;
        v = v * 10 + (uint64_t)(fp.ptr[i] - '0');
    }
    for (; shift > 0; shift--) {
        if (v > (UINT64_C(1) << 53) / 10)
            return 0;
        v *= 10;
    }
    for (; shift < 0; shift++)
        v /= 10;
    *out = v;
    return 1;
}

static int get_octets(mr_imap_dctx *c, const mr_imap_value *v, uint64_t *out)
{
    *out = 0;
    if (is_number(v)) {
        *out = v->num;
        if (v->num > UINT32_MAX)
            mr_imap_diag(c, v->offset, REF_SYNTAX, "body-fld-octets larger than a 32-bit number");
        return MR_IMAP_DEC_OK;
    }
    if (mr_imap_is_string(v) && span_u64(v->str, out)) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "body-fld-octets sent as a string, not a number");
        return MR_IMAP_DEC_OK;
    }
    if ((mr_imap_is_string(v) || mr_imap_is_atomic(v)) && span_negative(v->str)) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "negative body-fld-octets; taken as 0");
        return MR_IMAP_DEC_OK;
    }
    if (mr_imap_value_is_nil(v)) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "body-fld-octets NIL; taken as 0");
        return MR_IMAP_DEC_OK;
    }
    if (mr_imap_is_atomic(v) && span_float(v->str, out)) {
        /* "9.3736e+06" (Mail.ru, MailKit#1838): taken as the number it
         * writes, truncated (lenient, quirk 23). */
        mr_imap_diag(c, v->offset, REF_SYNTAX, "body-fld-octets in floating-point notation");
        return MR_IMAP_DEC_OK;
    }
    return mr_imap_bad(c, v->offset, "body-fld-octets is not a number");
}

/* body-fld-dsp = "(" string SP body-fld-param ")" / nil.  Lenient: a bare
 * string, a list of one string, extra elements. */
static int decode_disposition(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_disposition *d)
{
    static const char detail[] = "a body disposition type is not a string";
    int rc;
    memset(d, 0, sizeof *d);
    d->params.nil = 1;
    if (mr_imap_is_string(v)) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "body disposition is a bare string, not a list");
        d->type = v;
        return MR_IMAP_DEC_OK;
    }
    if (!list_or_nil(c, v, "a body disposition is not a list or NIL", "empty body disposition list; NIL expected",
                     &rc))
        return rc;
    rc = get_nstring(c, &v->items[0], &d->type, detail);
    if (rc)
        return rc;
    if (v->n_items == 1) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "body disposition without a parameter list");
        return MR_IMAP_DEC_OK;
    }
    if (v->n_items > 2)
        mr_imap_diag(c, v->items[2].offset, REF_SYNTAX, "body disposition has more than 2 fields");
    return decode_params(c, &v->items[1], &d->params);
}

/* body-fld-lang = nstring / "(" string *(SP string) ")": kept as sent. */
static void check_language(mr_imap_dctx *c, const mr_imap_value *v)
{
    if (mr_imap_value_is_nil(v) || mr_imap_is_string(v))
        return;
    if (!mr_imap_is_list(v)) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "body language is not a string, list or NIL");
        return;
    }
    if (v->n_items == 0)
        mr_imap_diag(c, v->offset, REF_SYNTAX, "empty body language list");
    for (size_t i = 0; i < v->n_items; i++)
        if (!mr_imap_is_string(&v->items[i])) {
            mr_imap_diag(c, v->items[i].offset, REF_SYNTAX, "body language list holds a non-string");
            break;
        }
}

/*
 * Extension data from items[i] on: single part md5 (or multipart params),
 * dsp, lang, loc, then body-extension.
 */
static int decode_ext(mr_imap_dctx *c, const mr_imap_value *v, size_t i, mr_imap_body *b,
                      int structure)
{
    static const char detail[] = "body extension field is not a string or NIL";
    const mr_imap_value *it = v->items;
    size_t n = v->n_items;
    int rc;
    if (i >= n)
        return MR_IMAP_DEC_OK;
    if (!structure)
        mr_imap_diag(c, it[i].offset, REF_FETCH, "extension data in a BODY response (BODYSTRUCTURE only)");
    if (b->multipart)
        rc = decode_params(c, &it[i], &b->ext_params);
    else
        rc = get_nstring(c, &it[i], &b->md5, "body-fld-md5 is not a string or NIL");
    if (rc)
        return rc;
    b->ext_count = 1;
    if (++i >= n)
        return MR_IMAP_DEC_OK;
    if ((rc = decode_disposition(c, &it[i], &b->disposition)))
        return rc;
    b->ext_count = 2;
    if (++i >= n)
        return MR_IMAP_DEC_OK;
    check_language(c, &it[i]);
    b->language = &it[i];
    b->ext_count = 3;
    if (++i >= n)
        return MR_IMAP_DEC_OK;
    if ((rc = get_nstring(c, &it[i], &b->location, detail)))
        return rc;
    b->ext_count = 4;
    if (++i >= n)
        return MR_IMAP_DEC_OK;
    /* body-extension: clients MUST accept it, servers MUST NOT send it
     * until a revision defines it (RFC 9051 7.5.2). */
    mr_imap_diag(c, it[i].offset, REF_FETCH, "undefined body-extension data after body-fld-loc");
    b->extensions = &it[i];
    b->n_extensions = n - i;
    return MR_IMAP_DEC_OK;
}

static int decode_body(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_body *b, int structure);

/*
 * body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]; the
 * parts are the leading lists, nparts of them (0: lenient).
 */
static int decode_mpart(mr_imap_dctx *c, const mr_imap_value *v, size_t nparts, mr_imap_body *b,
                        int structure)
{
    b->multipart = 1;
    if (nparts) {
        mr_imap_body *parts = mr_imap_alloc_zero(c, nparts, sizeof *parts);
        if (!parts)
            return MR_IMAP_DEC_NOMEM;
        for (size_t i = 0; i < nparts; i++) {
            int rc = decode_body(c, &v->items[i], &parts[i], structure);
            if (rc)
                return rc;
        }
        b->parts = parts;
        b->n_parts = nparts;
    } else {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "multipart body with no body parts");
    }
    if (nparts == v->n_items) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "multipart body without a media subtype");
        return MR_IMAP_DEC_OK;
    }
    int rc = get_media(c, &v->items[nparts], &b->subtype);
    if (rc)
        return rc;
    return decode_ext(c, v, nparts + 1, b, structure);
}

/*
 * body-type-1part = (body-type-basic / body-type-msg / body-type-text)
 * [SP body-ext-1part]; all start with type, subtype and body-fields.
 */
static int decode_1part(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_body *b, int structure)
{
    static const char detail[] = "a body field is not a string or NIL";
    const mr_imap_value *it = v->items;
    size_t n = v->n_items;
    int rc;
    if (n < 7)
        return mr_imap_bad(c, v->offset,
                           "a single-part body has fewer than 7 fields (type, subtype, body-fields)");
    if ((rc = get_media(c, &it[0], &b->type)) || (rc = get_media(c, &it[1], &b->subtype)) ||
        (rc = decode_params(c, &it[2], &b->params)) ||
        (rc = get_nstring(c, &it[3], &b->id, detail)) ||
        (rc = get_nstring(c, &it[4], &b->description, detail)) ||
        (rc = get_nstring(c, &it[5], &b->encoding, detail)))
        return rc;
    if (mr_imap_value_is_nil(b->encoding))
        mr_imap_diag(c, it[5].offset, REF_SYNTAX, "body-fld-enc NIL; a string is expected");
    if ((rc = get_octets(c, &it[6], &b->size)))
        return rc;

    size_t i = 7;
    int typed = mr_imap_is_string(b->type) || mr_imap_is_atomic(b->type);
    int subtyped = mr_imap_is_string(b->subtype) || mr_imap_is_atomic(b->subtype);
    int text = typed && mr_span_eq_ci(b->type->str, "TEXT");
    int message = typed && subtyped && mr_span_eq_ci(b->type->str, "MESSAGE") &&
                  (mr_span_eq_ci(b->subtype->str, "RFC822") || mr_span_eq_ci(b->subtype->str, "GLOBAL"));
    if (typed && mr_span_eq_ci(b->type->str, "MULTIPART"))
        mr_imap_diag(c, v->offset, REF_SYNTAX, "MULTIPART type sent as a single part without body parts");

    if (message && i < n && mr_imap_is_list(&it[i])) {
        /* body-type-msg: envelope SP body SP body-fld-lines */
        if ((rc = decode_envelope(c, &it[i], &b->envelope)))
            return rc;
        i++;
        if (i >= n || !mr_imap_is_list(&it[i]))
            return mr_imap_bad(c, i < n ? it[i].offset : v->offset,
                               "a MESSAGE/RFC822 part has an envelope but no body structure");
        mr_imap_body *inner = mr_imap_alloc_zero(c, 1, sizeof *inner);
        if (!inner)
            return MR_IMAP_DEC_NOMEM;
        if ((rc = decode_body(c, &it[i], inner, structure)))
            return rc;
        b->parts = inner;
        b->n_parts = 1;
        i++;
        if (i < n && is_number(&it[i])) {
            b->lines = it[i].num;
            b->has_lines = 1;
            i++;
        } else {
            mr_imap_diag(c, i < n ? it[i].offset : v->offset, REF_SYNTAX,
                         "MESSAGE/RFC822 part without body-fld-lines");
        }
    } else if (message) {
        /* An IMAP4rev1 server sends MESSAGE/GLOBAL as a basic part; RFC822
         * without envelope and body is a deviation. */
        if (mr_span_eq_ci(b->subtype->str, "RFC822"))
            mr_imap_diag(c, v->offset, REF_SYNTAX,
                         "MESSAGE/RFC822 part without envelope, body structure and lines");
    } else if (text) {
        /* body-type-text: body-fld-lines.  Only a number can be the line
         * count: anything else is taken as the extension data that follows. */
        if (i < n && is_number(&it[i])) {
            b->lines = it[i].num;
            b->has_lines = 1;
            i++;
        } else {
            mr_imap_diag(c, i < n ? it[i].offset : v->offset, REF_SYNTAX,
                         "TEXT part without body-fld-lines");
        }
    }
    return decode_ext(c, v, i, b, structure);
}

/* body = "(" (body-type-1part / body-type-mpart) ")", one level deeper. */
static int decode_body(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_body *b, int structure)
{
    if (!mr_imap_is_list(v))
        return mr_imap_bad(c, v->offset, "a body structure is not a parenthesised list");
    if (v->n_items == 0) {
        /* "()" as a MESSAGE/RFC822 part's body (HCL Domino 10,
         * MailKit#944): an unknown body, all fields NIL (lenient, quirk 26). */
        mr_imap_diag(c, v->offset, REF_FETCH, "a body structure is an empty list; taken as an unknown body");
        return MR_IMAP_DEC_OK;
    }
    if (c->depth >= c->st->lim.max_depth)
        return mr_imap_bad(c, v->offset, DEPTH_DETAIL);
    c->depth++;
    size_t nparts = 0;
    while (nparts < v->n_items && mr_imap_is_list(&v->items[nparts]))
        nparts++;
    int rc;
    if (nparts)
        rc = decode_mpart(c, v, nparts, b, structure);
    else if (v->n_items == 1 || mr_imap_is_list(&v->items[1]) ||
             (v->n_items < 7 && mr_imap_value_is_nil(&v->items[1])))
        /* ("MIXED"), ("MIXED" ("BOUNDARY" "x") ...) or Gmail's
         * ("RELATED" NIL ("ATTACHMENT" NIL) NIL) (MailKit#777): a
         * multipart whose parts were left out (lenient). */
        rc = decode_mpart(c, v, 0, b, structure);
    else
        rc = decode_1part(c, v, b, structure);
    c->depth--;
    return rc;
}

/* ------------------------------------------------------------ sections */

/* ATOM-CHAR (RFC 9051 9) minus "]": may be printed without quotes. */
static int atom_char(uint8_t ch)
{
    return ch > 0x20 && ch < 0x7f && !strchr("(){%*\"\\]", ch);
}

/* Append to buf (when not NULL) at *len; always advance *len. */
static void put(uint8_t *buf, size_t *len, const void *p, size_t n)
{
    if (buf && n)
        memcpy(buf + *len, p, n);
    *len += n;
}

static void put_scalar(uint8_t *buf, size_t *len, const mr_imap_value *v)
{
    if (mr_imap_value_is_nil(v)) {
        put(buf, len, "NIL", 3);
        return;
    }
    if (mr_imap_is_atomic(v)) {
        put(buf, len, v->raw.ptr, v->raw.len);
        return;
    }
    int bare = v->str.len > 0;
    for (size_t i = 0; i < v->str.len && bare; i++)
        bare = atom_char(v->str.ptr[i]);
    if (bare) {
        put(buf, len, v->str.ptr, v->str.len);
        return;
    }
    put(buf, len, "\"", 1);
    for (size_t i = 0; i < v->str.len; i++) {
        uint8_t ch = v->str.ptr[i];
        if (ch == '"' || ch == '\\')
            put(buf, len, "\\", 1);
        put(buf, len, &ch, 1);
    }
    put(buf, len, "\"", 1);
}

/*
 * The section text between the brackets, normalised: the items separated
 * by single spaces (a section-spec is one atom, "1.2.HEADER.FIELDS", and
 * maybe a header-list), a list's elements separated by single spaces,
 * strings printed bare when they are atoms and quoted otherwise.  Case is
 * kept as sent.  Two passes: count, then write into the store.
 */
static int section_text(mr_imap_dctx *c, const mr_imap_value *name, mr_span *out)
{
    out->ptr = NULL;
    out->len = 0;
    const mr_imap_value *it = name->items;
    for (size_t i = 0; i < name->n_items; i++) {
        if (!mr_imap_is_list(&it[i]))
            continue;
        for (size_t j = 0; j < it[i].n_items; j++)
            if (mr_imap_is_list(&it[i].items[j]))
                return mr_imap_bad(c, it[i].items[j].offset, "a section holds a nested list");
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    for (int pass = 0; pass < 2; pass++) {
        len = 0;
        for (size_t i = 0; i < name->n_items; i++) {
            if (i)
                put(buf, &len, " ", 1);
            if (mr_imap_is_list(&it[i])) {
                put(buf, &len, "(", 1);
                for (size_t j = 0; j < it[i].n_items; j++) {
                    if (j)
                        put(buf, &len, " ", 1);
                    put_scalar(buf, &len, &it[i].items[j]);
                }
                put(buf, &len, ")", 1);
            } else {
                put_scalar(buf, &len, &it[i]);
            }
        }
        if (pass == 0) {
            if (len == 0)
                return MR_IMAP_DEC_OK;
            buf = mr_store_alloc(c->st, len);
            if (!buf)
                return MR_IMAP_DEC_NOMEM;
        }
    }
    out->ptr = buf;
    out->len = len;
    return MR_IMAP_DEC_OK;
}

/*
 * 1 when s is a section-spec (binary = 0) or a section-part (binary = 1),
 * RFC 9051 9: [part *("." part)] and, for section-spec, an optional
 * section-msgtext (HEADER, HEADER.FIELDS[.NOT] SP header-list, TEXT) or,
 * after a part, MIME.
 */
static int section_valid(mr_span s, int binary)
{
    mr_cursor cur = mr_cur_from_span(s);
    size_t parts = 0;
    uint8_t ch;
    if (mr_cur_empty(&cur))
        return 1;
    while (mr_cur_peek(&cur, &ch) && mr_is(ch, MR_C_DIGIT)) {
        uint64_t n;
        if (!mr_cur_get_u64(&cur, &n) || n == 0 || n > UINT32_MAX)
            return 0;
        parts++;
        if (mr_cur_empty(&cur))
            return 1;
        if (!mr_cur_accept(&cur, '.'))
            return 0;
    }
    if (binary)
        return 0;
    if (mr_cur_accept_str_ci(&cur, "HEADER.FIELDS.NOT") || mr_cur_accept_str_ci(&cur, "HEADER.FIELDS")) {
        mr_span list;
        if (!mr_cur_accept_str(&cur, " (") || !mr_cur_take_until(&cur, ')', &list) || list.len == 0)
            return 0;
        mr_cur_skip(&cur, 1);
        return mr_cur_empty(&cur);
    }
    if (mr_cur_accept_str_ci(&cur, "HEADER") || mr_cur_accept_str_ci(&cur, "TEXT") ||
        (parts && mr_cur_accept_str_ci(&cur, "MIME")))
        return mr_cur_empty(&cur);
    return 0;
}

/* ------------------------------------------------------------ FETCH items */

static mr_imap_fetch_kind classify(mr_imap_dctx *c, const mr_imap_value *name)
{
    static const struct {
        const char *name;
        mr_imap_fetch_kind kind;
    } plain[] = {
        {"FLAGS", MR_IMAP_FETCH_FLAGS},
        {"UID", MR_IMAP_FETCH_UID},
        {"INTERNALDATE", MR_IMAP_FETCH_INTERNALDATE},
        {"RFC822.SIZE", MR_IMAP_FETCH_RFC822_SIZE},
        {"RFC822", MR_IMAP_FETCH_RFC822},
        {"RFC822.HEADER", MR_IMAP_FETCH_RFC822_HEADER},
        {"RFC822.TEXT", MR_IMAP_FETCH_RFC822_TEXT},
        {"ENVELOPE", MR_IMAP_FETCH_ENVELOPE},
        {"BODY", MR_IMAP_FETCH_BODY},
        {"BODYSTRUCTURE", MR_IMAP_FETCH_BODYSTRUCTURE},
        {"MODSEQ", MR_IMAP_FETCH_MODSEQ},
        {"EMAILID", MR_IMAP_FETCH_EMAILID},
        {"THREADID", MR_IMAP_FETCH_THREADID},
        {"SAVEDATE", MR_IMAP_FETCH_SAVEDATE},
        {"PREVIEW", MR_IMAP_FETCH_PREVIEW},
    };
    mr_span s = name->str;
    if (name->has_section) {
        if (mr_span_eq_ci(s, "BODY"))
            return MR_IMAP_FETCH_BODY_SECTION;
        if (mr_span_eq_ci(s, "BINARY"))
            return MR_IMAP_FETCH_BINARY;
        if (mr_span_eq_ci(s, "BINARY.SIZE"))
            return MR_IMAP_FETCH_BINARY_SIZE;
        /* The .PEEK forms are requests; the response names BODY[...]
         * (RFC 9051 7.5.2), but some servers echo the request. */
        if (mr_span_eq_ci(s, "BODY.PEEK")) {
            mr_imap_diag(c, name->offset, REF_FETCH, "BODY.PEEK[...] in a FETCH response; BODY[...] expected");
            return MR_IMAP_FETCH_BODY_SECTION;
        }
        if (mr_span_eq_ci(s, "BINARY.PEEK")) {
            mr_imap_diag(c, name->offset, REF_FETCH,
                         "BINARY.PEEK[...] in a FETCH response; BINARY[...] expected");
            return MR_IMAP_FETCH_BINARY;
        }
        return MR_IMAP_FETCH_OTHER;
    }
    if (s.len == 0)
        return MR_IMAP_FETCH_OTHER;
    uint8_t first = (uint8_t)(s.ptr[0] & ~0x20); /* the names are upper case */
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if ((uint8_t)plain[i].name[0] == first && mr_span_eq_ci(s, plain[i].name))
            return plain[i].kind;
    return MR_IMAP_FETCH_OTHER;
}

/* An nstring data value (RFC822*, BODY[], PREVIEW). */
static int get_data(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_fetch_item *f,
                    const char *bad_detail)
{
    if (!mr_imap_value_is_nil(v) && !mr_imap_is_string(v))
        return mr_imap_bad(c, v->offset, bad_detail);
    f->data = v;
    return MR_IMAP_DEC_OK;
}

/* FLAGS: "(" [flag-fetch *(SP flag-fetch)] ")".  Lenient: NIL. */
static int decode_flags(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_fetch_item *f)
{
    if (mr_imap_value_is_nil(v)) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "FLAGS NIL; a list is expected");
        return MR_IMAP_DEC_OK;
    }
    if (!mr_imap_is_list(v))
        return mr_imap_bad(c, v->offset, "FLAGS is not a parenthesised list");
    mr_span *a = mr_imap_alloc_zero(c, v->n_items, sizeof *a);
    if (!a)
        return MR_IMAP_DEC_NOMEM;
    for (size_t i = 0; i < v->n_items; i++) {
        if (!mr_imap_is_atomic(&v->items[i]))
            return mr_imap_bad(c, v->items[i].offset, "a FLAGS element is not a flag");
        a[i] = v->items[i].str;
    }
    f->atoms = a;
    f->n_atoms = v->n_items;
    return MR_IMAP_DEC_OK;
}

/* A number value; limit32: a 32-bit number is expected (RFC 9051 9). */
static int get_number(mr_imap_dctx *c, const mr_imap_value *v, uint64_t *out, int limit32,
                      const char *bad_detail)
{
    if (!is_number(v))
        return mr_imap_bad(c, v->offset, bad_detail);
    *out = v->num;
    if (limit32 && v->num > UINT32_MAX)
        mr_imap_diag(c, v->offset, REF_SYNTAX, "number larger than 32 bits");
    else if (!limit32 && v->num > INT64_MAX)
        mr_imap_diag(c, v->offset, REF_SYNTAX, "number64 larger than 63 bits");
    return MR_IMAP_DEC_OK;
}

/* objectid = 1*255(ALPHA / DIGIT / "_" / "-") (RFC 8474). */
static int objectid_ok(const mr_imap_value *v)
{
    if (!mr_imap_is_atomic(v) || v->str.len == 0 || v->str.len > 255)
        return 0;
    for (size_t i = 0; i < v->str.len; i++) {
        uint8_t ch = v->str.ptr[i];
        if (!mr_is(ch, MR_C_ALPHA | MR_C_DIGIT) && ch != '_' && ch != '-')
            return 0;
    }
    return 1;
}

/* "(" x ")" as RFC 7162 (MODSEQ) and RFC 8474 (EMAILID, THREADID) wrap
 * one value; lenient: the value alone. */
static const mr_imap_value *unwrap1(mr_imap_dctx *c, const mr_imap_value *v, const char *ref,
                                    const char *msg)
{
    if (mr_imap_is_list(v))
        return v->n_items == 1 ? &v->items[0] : NULL;
    mr_imap_diag(c, v->offset, ref, msg);
    return v;
}

static int decode_item(mr_imap_dctx *c, const mr_imap_value *name, const mr_imap_value *v,
                       mr_imap_fetch_item *f)
{
    int rc;
    f->kind = classify(c, name);
    f->name = name;
    f->value = v;
    if (name->has_section) {
        if ((rc = section_text(c, name, &f->section)))
            return rc;
        int binary = f->kind == MR_IMAP_FETCH_BINARY || f->kind == MR_IMAP_FETCH_BINARY_SIZE;
        if ((f->kind == MR_IMAP_FETCH_BODY_SECTION || binary) && !section_valid(f->section, binary))
            mr_imap_diag(c, name->offset, binary ? "RFC 3516 7" : REF_SYNTAX,
                         binary ? "section is not a section-part" : "section is not a section-spec");
        if (name->has_origin) {
            f->origin = name->num;
            f->has_origin = 1;
            if (f->kind == MR_IMAP_FETCH_BINARY_SIZE)
                mr_imap_diag(c, name->offset, "RFC 3516 7", "BINARY.SIZE[] with an origin <n>");
        }
    }

    switch (f->kind) {
    case MR_IMAP_FETCH_FLAGS:
        return decode_flags(c, v, f);
    case MR_IMAP_FETCH_UID:
        if ((rc = get_number(c, v, &f->number, 1, "UID is not a number")))
            return rc;
        if (f->number == 0)
            mr_imap_diag(c, v->offset, REF_SYNTAX, "UID 0; uniqueid is a non-zero number");
        return MR_IMAP_DEC_OK;
    case MR_IMAP_FETCH_INTERNALDATE:
        rc = decode_time(c, v, &f->time, "INTERNALDATE is not a date-time");
        if (rc == MR_IMAP_DEC_BAD && mr_imap_is_string(v)) {
            /* "00-Jan-0000 00:00:00 +0000" (Domino, MailKit#944): a string
             * that is no date; no time is given (lenient, quirk 34). */
            memset(&f->time, 0, sizeof f->time);
            f->data = v;
            mr_imap_diag(c, v->offset, REF_SYNTAX, "INTERNALDATE is not a valid date-time; no time taken");
            return MR_IMAP_DEC_OK;
        }
        if (rc)
            return rc;
        f->has_time = 1;
        return MR_IMAP_DEC_OK;
    case MR_IMAP_FETCH_RFC822_SIZE:
        return get_number(c, v, &f->number, 0, "RFC822.SIZE is not a number");
    case MR_IMAP_FETCH_BINARY_SIZE:
        return get_number(c, v, &f->number, 1, "BINARY.SIZE is not a number");
    case MR_IMAP_FETCH_RFC822:
    case MR_IMAP_FETCH_RFC822_HEADER:
    case MR_IMAP_FETCH_RFC822_TEXT:
    case MR_IMAP_FETCH_BODY_SECTION:
        if ((rc = get_data(c, v, f, "message data is not a string or NIL")))
            return rc;
        if (v->type == MR_IMAP_V_LITERAL8)
            mr_imap_diag(c, v->offset, "RFC 3516 4.3", "literal8 outside a BINARY[] response");
        return MR_IMAP_DEC_OK;
    case MR_IMAP_FETCH_BINARY:
        return get_data(c, v, f, "BINARY[] data is not a string, literal8 or NIL");
    case MR_IMAP_FETCH_ENVELOPE:
        return decode_envelope(c, v, &f->envelope);
    case MR_IMAP_FETCH_BODY:
    case MR_IMAP_FETCH_BODYSTRUCTURE: {
        mr_imap_body *b = mr_imap_alloc_zero(c, 1, sizeof *b);
        if (!b)
            return MR_IMAP_DEC_NOMEM;
        if ((rc = decode_body(c, v, b, f->kind == MR_IMAP_FETCH_BODYSTRUCTURE)))
            return rc;
        f->body = b;
        return MR_IMAP_DEC_OK;
    }
    case MR_IMAP_FETCH_MODSEQ: {
        /* fetch-mod-resp = "MODSEQ" SP "(" permsg-modsequence ")" */
        const mr_imap_value *n = unwrap1(c, v, "RFC 7162 7", "MODSEQ value without parentheses");
        if (!n || !is_number(n))
            return mr_imap_bad(c, v->offset, "MODSEQ is not a parenthesised number");
        f->number = n->num;
        if (n->num == 0 || n->num > INT64_MAX)
            mr_imap_diag(c, n->offset, "RFC 7162 7", "mod-sequence-value outside 1..2^63-1");
        return MR_IMAP_DEC_OK;
    }
    case MR_IMAP_FETCH_EMAILID:
    case MR_IMAP_FETCH_THREADID: {
        /* "EMAILID" SP "(" objectid ")"; "THREADID" SP ("(" objectid ")" / nil) */
        const mr_imap_value *id = v;
        if (mr_imap_value_is_nil(v)) {
            if (f->kind == MR_IMAP_FETCH_EMAILID)
                mr_imap_diag(c, v->offset, "RFC 8474", "EMAILID NIL; an objectid is expected");
        } else {
            id = unwrap1(c, v, "RFC 8474", "objectid without parentheses");
            if (!id || !(mr_imap_is_atomic(id) || mr_imap_is_string(id)))
                return mr_imap_bad(c, v->offset, "EMAILID or THREADID is not a parenthesised objectid");
            if (!objectid_ok(id))
                mr_imap_diag(c, id->offset, "RFC 8474",
                             "objectid is not 1-255 letters, digits, \"_\" or \"-\"");
        }
        f->data = id;
        return MR_IMAP_DEC_OK;
    }
    case MR_IMAP_FETCH_SAVEDATE:
        /* "SAVEDATE" SP (date-time / nil) */
        if (mr_imap_value_is_nil(v)) {
            f->data = v;
            return MR_IMAP_DEC_OK;
        }
        if ((rc = decode_time(c, v, &f->time, "SAVEDATE is not a date-time or NIL")))
            return rc;
        f->has_time = 1;
        return MR_IMAP_DEC_OK;
    case MR_IMAP_FETCH_PREVIEW:
        /* "PREVIEW" SP nstring.  Drafts of RFC 8970 put a modifier list
         * such as (FUZZY) or an algorithm name before the text, inside a
         * list: the text is taken as the list's last element. */
        if (mr_imap_is_list(v)) {
            mr_imap_diag(c, v->offset, "RFC 8970", "PREVIEW value is a list; an nstring is expected");
            if (v->n_items == 0)
                return mr_imap_bad(c, v->offset, "PREVIEW is an empty list");
            v = &v->items[v->n_items - 1];
            if (mr_imap_is_list(v)) /* only modifiers: no text */
                v = NULL;
        }
        return get_data(c, v, f, "PREVIEW is not a string or NIL");
    case MR_IMAP_FETCH_OTHER:
    case MR_IMAP_FETCH__COUNT:
        break;
    }
    return MR_IMAP_DEC_OK;
}

/* msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP ...) ")" */
int mr_imap_decode_fetch(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_fetch *out)
{
    out->items = NULL;
    out->n = 0;
    if (!v)
        return mr_imap_bad(c, 0, "FETCH without data");
    if (!mr_imap_is_list(v))
        return mr_imap_bad(c, v->offset, "FETCH data is not a parenthesised list");
    for (size_t i = 0; i < v->n_items; i += 2) {
        const mr_imap_value *name = &v->items[i];
        if (name->type != MR_IMAP_V_ATOM)
            return mr_imap_bad(c, name->offset, "a FETCH item name is not an atom");
        if (i + 1 == v->n_items)
            return mr_imap_bad(c, name->offset, "a FETCH item name has no value");
    }
    if (v->n_items == 0) {
        mr_imap_diag(c, v->offset, REF_SYNTAX, "FETCH with an empty list; msg-att needs an item");
        return MR_IMAP_DEC_OK;
    }
    size_t n = v->n_items / 2;
    mr_imap_fetch_item *items = mr_imap_alloc_zero(c, n, sizeof *items);
    if (!items)
        return MR_IMAP_DEC_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = decode_item(c, &v->items[2 * i], &v->items[2 * i + 1], &items[i]);
        if (rc)
            return rc;
    }
    out->items = items;
    out->n = n;
    return MR_IMAP_DEC_OK;
}
