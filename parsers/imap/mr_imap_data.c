/*
 * mr_imap_data.c - typed untagged data other than FETCH, mailbox names and
 * sequence sets.
 *
 * Reads the generic value tree of a data response (mr_imap.c built it)
 * into the structures of mr_imap.h.  The grammar comes from RFC 9051 9
 * and RFC 3501 9 (CAPABILITY, ENABLED, FLAGS, LIST/LSUB, STATUS, SEARCH,
 * ESEARCH, NAMESPACE) and the extensions: RFC 2342 5 (NAMESPACE), RFC
 * 2971 3.2 (ID), RFC 4314 3.6-3.8 (ACL, LISTRIGHTS, MYRIGHTS), RFC 4731 4
 * (ESEARCH), RFC 5256 4-5 (SORT, THREAD), RFC 5258 (LIST-EXTENDED,
 * CHILDINFO), RFC 5464 4.4 (METADATA), RFC 6154 (SPECIAL-USE attributes),
 * RFC 7162 (MODSEQ, HIGHESTMODSEQ, VANISHED), RFC 7889 (APPENDLIMIT),
 * RFC 8474 (MAILBOXID), RFC 9208 4.2 (QUOTA, QUOTAROOT).
 *
 * A value that cannot be given its typed form makes the response BAD
 * (mr_imap_bad: offset of the value, static detail).  Deviations that real
 * servers make and that still have an obvious meaning are accepted in
 * both modes, with a strict-mode diagnostic naming the rule: among them
 * 8-bit UTF-8 mailbox names without UTF8=ACCEPT, names with SP sent as
 * several atoms (STATUS, LIST), a LIST or NAMESPACE delimiter sent as an
 * atom, FLAGS without parentheses or with quoted flags or "\*", unknown
 * STATUS items (kept as OTHER), numbers 0 where nz-number is required.
 * A mailbox is "INBOX" in any case (RFC 9051 5.1); a mailbox sent as NIL
 * is the name "NIL" (NIL is an atom, mailbox an astring).
 *
 * Nothing here recurses except THREAD, whose recursion follows the list
 * nesting; the depth of the forest it builds is kept within
 * limits.max_depth (c->depth).
 */
#include "../../common/mr_utf8.h"
#include "mr_imap_int.h"

/* ------------------------------------------------------------ helpers */

static const uint8_t k_inbox[] = "INBOX";
static const uint8_t k_nil[] = "NIL";

static mr_span span_of(const uint8_t *p, size_t n)
{
    mr_span s = {p, n};
    return s;
}

/* An array of n elements of size bytes in the store, zeroed; n == 0 gives NULL. */
static int alloc_array(mr_imap_dctx *c, size_t n, size_t size, void **out)
{
    *out = n ? mr_imap_alloc_zero(c, n, size) : NULL;
    return n && !*out ? MR_IMAP_DEC_NOMEM : MR_IMAP_DEC_OK;
}

/* Where a response whose values do not fit is BAD: its first or its last
 * value, or the response itself when it has none. */
static uint64_t first_offset(const mr_imap_response *r)
{
    return r->n_values ? r->values[0].offset : r->offset;
}

static uint64_t last_offset(const mr_imap_response *r)
{
    return r->n_values ? r->values[r->n_values - 1].offset : r->offset;
}

/* astring; a streamed literal has no bytes to give and does not count */
static int is_astring(const mr_imap_value *v)
{
    return mr_imap_value_is_string(v, 1) && !v->streamed;
}

/* nstring: NIL or string */
static int is_nstring(const mr_imap_value *v) { return v->type == MR_IMAP_V_NIL || mr_imap_is_string(v); }

/* 1 when s holds a byte above 0x7F. */
static int has_8bit(mr_span s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] & 0x80)
            return 1;
    return 0;
}

/* The text of an atom-like value; NIL as an atom reads "NIL". */
static mr_span atom_text(const mr_imap_value *v)
{
    if (v->type == MR_IMAP_V_NIL)
        return span_of(k_nil, 3);
    return v->str;
}

/* ------------------------------------------------------------ mailbox names */

/* The name s of the mailbox value v, as UTF-8 (see mr_imap_decode_mailbox). */
static int decode_mailbox_text(mr_imap_dctx *c, const mr_imap_value *v, mr_span s, mr_imap_mailbox *out)
{
    memset(out, 0, sizeof *out);
    out->value = v;
    out->mutf7_ok = 1;

    /* RFC 9051 5.1, 9 (mailbox): every case variant of INBOX is INBOX. */
    if (mr_span_eq_ci(s, "INBOX")) {
        out->name = span_of(k_inbox, 5);
        return MR_IMAP_DEC_OK;
    }

    if (c->utf8) {
        /* RFC 6855 3: after UTF8=ACCEPT names are UTF-8, not modified UTF-7. */
        out->name = s;
        if (!mr_utf8_valid(s.ptr, s.len))
            mr_imap_diag(c, v->offset, "RFC 6855 3", "a mailbox name is not valid UTF-8");
        return MR_IMAP_DEC_OK;
    }

    /* Plain printable ASCII without "&" is its own decoding: no copy. */
    size_t i = 0;
    while (i < s.len && s.ptr[i] >= 0x20 && s.ptr[i] <= 0x7E && s.ptr[i] != '&')
        i++;
    if (i == s.len) {
        out->name = s;
        return MR_IMAP_DEC_OK;
    }

    size_t n = mr_imap_mutf7_decode(s.ptr, s.len, NULL, 0);
    if (n == SIZE_MAX) {
        out->mutf7_ok = 0;
        out->name = s;
        if (has_8bit(s) && mr_utf8_valid(s.ptr, s.len))
            /* Many servers send 8-bit UTF-8 names without UTF8=ACCEPT. */
            mr_imap_diag(c, v->offset, "RFC 6855 3",
                         "a mailbox name is UTF-8 although UTF8=ACCEPT is not enabled");
        else
            mr_imap_diag(c, v->offset, "RFC 3501 5.1.3", "a mailbox name is not valid modified UTF-7");
        return MR_IMAP_DEC_OK;
    }
    uint8_t *buf;
    int rc = alloc_array(c, n, 1, (void **)&buf);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    mr_imap_mutf7_decode(s.ptr, s.len, buf, n);
    out->name = span_of(buf, n);
    return MR_IMAP_DEC_OK;
}

int mr_imap_decode_mailbox(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_mailbox *out)
{
    if (!v) {
        memset(out, 0, sizeof *out);
        return mr_imap_bad(c, 0, "a mailbox name is missing");
    }
    if (v->type == MR_IMAP_V_NIL) /* mailbox = astring, and NIL is an atom: a mailbox called NIL */
        return decode_mailbox_text(c, v, span_of(k_nil, 3), out);
    if (!is_astring(v)) {
        memset(out, 0, sizeof *out);
        return mr_imap_bad(c, v->offset, "a mailbox name is not an astring");
    }
    return decode_mailbox_text(c, v, v->str, out);
}

/*
 * A mailbox name that contains SP (or HTAB) sent unquoted, so that it
 * reads as several atoms v[0..n) ("* STATUS Deleted Items (MESSAGES 0)",
 * Gromox).  Atoms with no literal between them lie in one line, so the
 * name is the bytes from the first to the end of the last, as sent.
 * 0 when the values are not such atoms.
 */
static int split_mailbox(mr_imap_dctx *c, const mr_imap_value *v, size_t n, mr_imap_mailbox *out, int *rc)
{
    if (n < 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!mr_imap_is_atomic(&v[i]) || v[i].has_section || v[i].offset < v[0].offset)
            return 0;
    uint64_t len = v[n - 1].offset - v[0].offset + v[n - 1].raw.len;
    /* Compared as addresses: the two atoms need not lie in one buffer. */
    if (len > SIZE_MAX ||
        (uintptr_t)v[n - 1].raw.ptr - (uintptr_t)v[0].raw.ptr != v[n - 1].offset - v[0].offset)
        return 0; /* not one run of bytes after all */
    mr_imap_diag(c, v[0].offset, "RFC 9051 9", "a mailbox name with SP in it is not quoted");
    *rc = decode_mailbox_text(c, &v[0], span_of(v[0].raw.ptr, (size_t)len), out);
    return 1;
}

/* ------------------------------------------------------------ sequence sets */

/* seq-number = nz-number / "*" (RFC 9051 9). */
static int seq_number(mr_cursor *cur, uint64_t *out)
{
    if (mr_cur_accept(cur, '*')) {
        *out = MR_IMAP_STAR;
        return 1;
    }
    if (!mr_cur_next_is(cur, '0') && mr_cur_get_u64(cur, out))
        return 1;
    return 0;
}

int mr_imap_decode_seqset(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_seqset *out)
{
    out->ranges = NULL;
    out->n = 0;
    if (!v)
        return mr_imap_bad(c, 0, "a sequence set is missing");

    mr_span s;
    int exact = 1; /* offsets inside s are stream offsets from v->offset */
    if (mr_imap_is_atomic(v) && !v->has_section) {
        s = v->raw;
    } else if (mr_imap_is_string(v) && !v->streamed) {
        /* Not an atom, but its contents can still be the set. */
        mr_imap_diag(c, v->offset, "RFC 9051 9", "a sequence set is sent as a string");
        s = v->str;
        exact = 0;
    } else {
        return mr_imap_bad(c, v->offset, "a sequence set is not an atom");
    }
    if (s.len == 0)
        return mr_imap_bad(c, v->offset, "a sequence set is empty");

    size_t n = 1;
    for (size_t i = 0; i < s.len; i++)
        n += s.ptr[i] == ',';
    mr_imap_range *ranges;
    int rc = alloc_array(c, n, sizeof *ranges, (void **)&ranges);
    if (rc != MR_IMAP_DEC_OK)
        return rc;

    mr_cursor cur = mr_cur_from_span(s);
    for (size_t k = 0; k < n; k++) {
        uint64_t lo, hi;
        if (k > 0 && !mr_cur_accept(&cur, ','))
            break;
        if (!seq_number(&cur, &lo))
            break;
        hi = lo;
        if (mr_cur_accept(&cur, ':') && !seq_number(&cur, &hi))
            break;
        ranges[k].lo = lo;
        ranges[k].hi = hi;
        if (k + 1 == n && mr_cur_empty(&cur)) {
            out->ranges = ranges;
            out->n = n;
            return MR_IMAP_DEC_OK;
        }
    }
    uint64_t at = v->offset + (exact ? (uint64_t)(s.len - mr_cur_len(&cur)) : 0);
    return mr_imap_bad(c, at, "a sequence set is not (nz-number / \"*\") [\":\" ...] separated by \",\"");
}

/* ------------------------------------------------------------ atoms */

enum atoms_kind { ATOMS_CAPA, ATOMS_FLAGS };

/*
 * Spans of values that should be atoms (capabilities, flags).  A quoted
 * string is accepted with a diagnostic; a list (or a streamed literal)
 * cannot be an atom: BAD.
 */
static int decode_atoms(mr_imap_dctx *c, const mr_imap_value *v, size_t n, enum atoms_kind kind,
                        const mr_span **out, size_t *n_out)
{
    const char *ref = kind == ATOMS_CAPA ? "RFC 9051 7.2.2" : "RFC 9051 7.3.5";
    mr_span *items;
    int rc = alloc_array(c, n, sizeof *items, (void **)&items);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        const mr_imap_value *x = &v[i];
        if (mr_imap_is_atomic(x) || x->type == MR_IMAP_V_NIL) {
            items[i] = atom_text(x);
        } else if (mr_imap_is_string(x) && !x->streamed) {
            mr_imap_diag(c, x->offset, ref,
                         kind == ATOMS_CAPA ? "a capability sent as a string; capabilities are atoms"
                                            : "a flag sent as a string; flags are atoms");
            items[i] = x->str;
        } else {
            return mr_imap_bad(c, x->offset, kind == ATOMS_CAPA ? "a capability is not an atom"
                                                                 : "a flag is not an atom");
        }
        if (kind == ATOMS_FLAGS && mr_span_eq(items[i], "\\*"))
            mr_imap_diag(c, x->offset, "RFC 9051 9", "\\* is a flag-perm, only for PERMANENTFLAGS");
    }
    *out = items;
    *n_out = n;
    return MR_IMAP_DEC_OK;
}

static int decode_capability(mr_imap_dctx *c, mr_imap_response *r)
{
    int rc = decode_atoms(c, r->values, r->n_values, ATOMS_CAPA, &r->u.atoms.items, &r->u.atoms.n);
    /* RFC 9051 9 / RFC 3501 9, capability-data: IMAP4rev2 (or IMAP4rev1) is listed. */
    if (rc == MR_IMAP_DEC_OK && r->type == MR_IMAP_TYPE_CAPABILITY &&
        !mr_imap_has_imap4rev(r->u.atoms.items, r->u.atoms.n))
        mr_imap_diag(c, r->offset, "RFC 9051 9", "a CAPABILITY response lists neither IMAP4rev2 nor IMAP4rev1");
    return rc;
}

/* FLAGS SP flag-list (RFC 9051 7.3.5). */
static int decode_flags(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    if (r->n_values == 1 && mr_imap_is_list(&v[0]))
        return decode_atoms(c, v[0].items, v[0].n_items, ATOMS_FLAGS, &r->u.atoms.items, &r->u.atoms.n);
    if (r->n_values == 0)
        return mr_imap_bad(c, r->offset, "FLAGS has no flag list");
    for (size_t i = 0; i < r->n_values; i++)
        if (!mr_imap_is_atomic(&v[i]))
            return mr_imap_bad(c, v[i].offset, "FLAGS is not followed by one parenthesised flag list");
    mr_imap_diag(c, v[0].offset, "RFC 9051 7.3.5", "the flags of a FLAGS response are not in parentheses");
    return decode_atoms(c, v, r->n_values, ATOMS_FLAGS, &r->u.atoms.items, &r->u.atoms.n);
}

/* ------------------------------------------------------------ LIST, LSUB */

static const struct {
    const char *name;
    unsigned bit;
} k_mbx_attrs[] = {
    {"\\Noinferiors", MR_IMAP_MBX_NOINFERIORS},     /* RFC 9051 7.3.1 */
    {"\\Noselect", MR_IMAP_MBX_NOSELECT},
    {"\\Marked", MR_IMAP_MBX_MARKED},
    {"\\Unmarked", MR_IMAP_MBX_UNMARKED},
    {"\\NonExistent", MR_IMAP_MBX_NONEXISTENT},     /* RFC 5258 3 */
    {"\\Subscribed", MR_IMAP_MBX_SUBSCRIBED},
    {"\\Remote", MR_IMAP_MBX_REMOTE},
    {"\\HasChildren", MR_IMAP_MBX_HASCHILDREN},     /* RFC 3348, 5258 */
    {"\\HasNoChildren", MR_IMAP_MBX_HASNOCHILDREN},
    {"\\All", MR_IMAP_MBX_ALL},                     /* RFC 6154 2 */
    {"\\Archive", MR_IMAP_MBX_ARCHIVE},
    {"\\Drafts", MR_IMAP_MBX_DRAFTS},
    {"\\Flagged", MR_IMAP_MBX_FLAGGED},
    {"\\Junk", MR_IMAP_MBX_JUNK},
    {"\\Sent", MR_IMAP_MBX_SENT},
    {"\\Trash", MR_IMAP_MBX_TRASH},
    {"\\Important", MR_IMAP_MBX_IMPORTANT},         /* RFC 8457 */
};

/*
 * A hierarchy delimiter: DQUOTE QUOTED-CHAR DQUOTE / nil (RFC 9051 9,
 * mailbox-list and namespace-descr).  An atom or literal of one byte is
 * accepted with a diagnostic, so is "" (taken as NIL: no hierarchy).
 */
static int decode_delimiter(mr_imap_dctx *c, const mr_imap_value *v, const char *ref, int *out)
{
    if (v->type == MR_IMAP_V_NIL) {
        *out = -1;
        return MR_IMAP_DEC_OK;
    }
    if (v->type == MR_IMAP_V_QUOTED && v->str.len == 0) {
        mr_imap_diag(c, v->offset, ref, "an empty hierarchy delimiter, where NIL means none");
        *out = -1;
        return MR_IMAP_DEC_OK;
    }
    if ((mr_imap_is_atomic(v) || (mr_imap_is_string(v) && !v->streamed)) && v->str.len == 1) {
        if (v->type != MR_IMAP_V_QUOTED)
            mr_imap_diag(c, v->offset, ref, "a hierarchy delimiter is not a quoted character");
        *out = v->str.ptr[0];
        return MR_IMAP_DEC_OK;
    }
    return mr_imap_bad(c, v->offset, "a hierarchy delimiter is not one quoted character or NIL");
}

/* mbox-list-extended (RFC 9051 9, RFC 5258 9): CHILDINFO, OLDNAME, others kept. */
static int decode_list_extended(mr_imap_dctx *c, const mr_imap_value *ext, mr_imap_list *out)
{
    out->extended = ext;
    if (ext->n_items % 2)
        return mr_imap_bad(c, ext->offset, "LIST extended data is not tag/value pairs");
    for (size_t i = 0; i < ext->n_items; i += 2) {
        const mr_imap_value *tag = &ext->items[i], *val = &ext->items[i + 1];
        if (!is_astring(tag))
            return mr_imap_bad(c, tag->offset, "a LIST extended data tag is not an astring");
        if (mr_span_eq_ci(tag->str, "CHILDINFO")) {
            /* RFC 5258 4: "CHILDINFO" SP "(" option *(SP option) ")" */
            if (!mr_imap_is_list(val))
                return mr_imap_bad(c, val->offset, "CHILDINFO is not a list");
            out->childinfo = val;
        } else if (mr_span_eq_ci(tag->str, "OLDNAME")) {
            /* RFC 9051 9, oldname-extended-item: "OLDNAME" SP "(" mailbox ")" */
            if (!mr_imap_is_list(val) || val->n_items != 1)
                return mr_imap_bad(c, val->offset, "OLDNAME is not a list of one mailbox");
            int rc = mr_imap_decode_mailbox(c, &val->items[0], &out->oldname);
            if (rc != MR_IMAP_DEC_OK)
                return rc;
            out->has_oldname = 1;
        }
    }
    return MR_IMAP_DEC_OK;
}

/* mailbox-list (RFC 9051 7.3.1, 9; RFC 3501 7.2.2-7.2.3 for LSUB). */
static int decode_list(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    mr_imap_list *out = &r->u.list;
    memset(out, 0, sizeof *out);
    if (r->n_values < 3)
        return mr_imap_bad(c, last_offset(r), "LIST needs attributes, a delimiter and a mailbox");
    if (!mr_imap_is_list(&v[0]))
        return mr_imap_bad(c, v[0].offset, "LIST attributes are not a parenthesised list");

    mr_span *attrs;
    int rc = alloc_array(c, v[0].n_items, sizeof *attrs, (void **)&attrs);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < v[0].n_items; i++) {
        const mr_imap_value *a = &v[0].items[i];
        if (mr_imap_is_atomic(a)) {
            attrs[i] = a->str;
            if (a->str.len == 0 || a->str.ptr[0] != '\\')
                /* mbx-list-oflag / flag-extension = "\" atom */
                mr_imap_diag(c, a->offset, "RFC 9051 7.3.1", "a mailbox attribute does not start with \\");
        } else if (mr_imap_is_string(a) && !a->streamed) {
            mr_imap_diag(c, a->offset, "RFC 9051 7.3.1", "a mailbox attribute is a string, not an atom");
            attrs[i] = a->str;
        } else {
            return mr_imap_bad(c, a->offset, "a mailbox attribute is not an atom");
        }
        for (size_t k = 0; k < sizeof k_mbx_attrs / sizeof k_mbx_attrs[0]; k++)
            if (mr_span_eq_ci(attrs[i], k_mbx_attrs[k].name))
                out->attr_bits |= k_mbx_attrs[k].bit;
    }
    out->attrs = attrs;
    out->n_attrs = v[0].n_items;

    rc = decode_delimiter(c, &v[1], "RFC 9051 7.3.1", &out->delimiter);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    if (r->n_values > 3 && split_mailbox(c, &v[2], r->n_values - 2, &out->mailbox, &rc))
        return rc; /* "* LIST () "/" Sent Items": no room for extended data */
    rc = mr_imap_decode_mailbox(c, &v[2], &out->mailbox);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    if (r->n_values >= 4) {
        if (!mr_imap_is_list(&v[3]))
            return mr_imap_bad(c, v[3].offset, "LIST extended data is not a parenthesised list");
        rc = decode_list_extended(c, &v[3], out);
        if (rc != MR_IMAP_DEC_OK)
            return rc;
    }
    if (r->n_values > 4)
        mr_imap_diag(c, v[4].offset, "RFC 9051 7.3.1", "values after a LIST response's extended data");
    return MR_IMAP_DEC_OK;
}

/* ------------------------------------------------------------ STATUS */

static const char *const k_status_names[] = {
#define MR_XX(name, wire) wire,
    MR_IMAP_STATUS_MAP(MR_XX)
#undef MR_XX
};

/* STATUS SP mailbox SP "(" [status-att-list] ")" (RFC 9051 7.3.3, 9). */
static int decode_status(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    mr_imap_status *out = &r->u.status;
    memset(out, 0, sizeof *out);
    int rc;
    if (r->n_values < 2 || !mr_imap_is_list(&v[r->n_values - 1]) ||
        (r->n_values > 2 && !split_mailbox(c, v, r->n_values - 1, &out->mailbox, &rc)))
        return mr_imap_bad(c, last_offset(r), "STATUS is not a mailbox and one parenthesised item list");
    if (r->n_values == 2)
        rc = mr_imap_decode_mailbox(c, &v[0], &out->mailbox);
    if (rc != MR_IMAP_DEC_OK)
        return rc;

    const mr_imap_value *list = &v[r->n_values - 1];
    if (list->n_items % 2)
        return mr_imap_bad(c, list->offset, "STATUS items are not name/value pairs");
    mr_imap_status_item *items;
    rc = alloc_array(c, list->n_items / 2, sizeof *items, (void **)&items);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < list->n_items / 2; i++) {
        const mr_imap_value *name = &list->items[2 * i], *val = &list->items[2 * i + 1];
        mr_imap_status_item *it = &items[i];
        if (name->type != MR_IMAP_V_ATOM)
            return mr_imap_bad(c, name->offset, "a STATUS item name is not an atom");
        it->name = name->str;
        it->value = val;
        it->kind = MR_IMAP_STATUS_OTHER;
        for (int k = 0; k < MR_IMAP_STATUS_OTHER; k++)
            if (mr_span_eq_ci(name->str, k_status_names[k]))
                it->kind = (mr_imap_status_kind)k;
        switch (it->kind) {
        case MR_IMAP_STATUS_APPENDLIMIT: /* RFC 7889 4: number / nil */
            if (val->type == MR_IMAP_V_NIL) {
                it->nil = 1;
                break;
            }
            /* fall through */
        case MR_IMAP_STATUS_MESSAGES:
        case MR_IMAP_STATUS_RECENT:
        case MR_IMAP_STATUS_UIDNEXT:
        case MR_IMAP_STATUS_UIDVALIDITY:
        case MR_IMAP_STATUS_UNSEEN:
        case MR_IMAP_STATUS_DELETED:
        case MR_IMAP_STATUS_SIZE:
        case MR_IMAP_STATUS_DELETED_STORAGE:
        case MR_IMAP_STATUS_HIGHESTMODSEQ: /* RFC 7162 3.1.7 */
            if (val->type != MR_IMAP_V_NUMBER)
                return mr_imap_bad(c, val->offset, "a STATUS item's value is not a number");
            it->number = val->num;
            if (val->num == 0 &&
                (it->kind == MR_IMAP_STATUS_UIDNEXT || it->kind == MR_IMAP_STATUS_UIDVALIDITY))
                mr_imap_diag(c, val->offset, "RFC 9051 9", "STATUS UIDNEXT or UIDVALIDITY is 0, not an nz-number");
            break;
        case MR_IMAP_STATUS_MAILBOXID: /* RFC 8474 4.3: "MAILBOXID" SP "(" objectid ")" */
            if (!mr_imap_is_list(val) || val->n_items != 1 || !mr_imap_is_atomic(&val->items[0]))
                return mr_imap_bad(c, val->offset, "MAILBOXID is not (objectid)");
            it->text = val->items[0].str;
            break;
        default: /* unknown: kept as sent */
            break;
        }
    }
    out->items = items;
    out->n = list->n_items / 2;
    return MR_IMAP_DEC_OK;
}

/* ------------------------------------------------------------ SEARCH, SORT, ESEARCH */

/* "(" "MODSEQ" SP mod-sequence-value ")" (RFC 7162 7, search-sort-mod-seq). */
static int modseq_list(const mr_imap_value *v, uint64_t *out)
{
    if (!mr_imap_is_list(v) || v->n_items != 2 || !mr_imap_value_is_atom(&v->items[0], "MODSEQ") ||
        v->items[1].type != MR_IMAP_V_NUMBER)
        return 0;
    *out = v->items[1].num;
    return 1;
}

/* SEARCH *(SP nz-number) (RFC 3501 7.2.5), SORT (RFC 5256 4), with (MODSEQ n) (RFC 7162 3.1.5). */
static int decode_search(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    mr_imap_search *out = &r->u.search;
    memset(out, 0, sizeof *out);
    size_t n = r->n_values;
    if (n > 0 && mr_imap_is_list(&v[n - 1])) {
        if (!modseq_list(&v[n - 1], &out->modseq))
            return mr_imap_bad(c, v[n - 1].offset, "a SEARCH or SORT result ends in a list that is not (MODSEQ n)");
        out->has_modseq = 1;
        n--;
    }
    uint64_t *nums;
    int rc = alloc_array(c, n, sizeof *nums, (void **)&nums);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (v[i].type != MR_IMAP_V_NUMBER)
            return mr_imap_bad(c, v[i].offset, "a SEARCH or SORT result is not a number");
        if (v[i].num == 0)
            mr_imap_diag(c, v[i].offset, r->type == MR_IMAP_TYPE_SORT ? "RFC 5256 5" : "RFC 9051 9",
                         "a SEARCH or SORT result is 0, not an nz-number");
        nums[i] = v[i].num;
    }
    out->nums = nums;
    out->n = n;
    return MR_IMAP_DEC_OK;
}

/* esearch-response (RFC 9051 9, RFC 4731 4, RFC 7162 7). */
static int decode_esearch(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    mr_imap_esearch *out = &r->u.esearch;
    memset(out, 0, sizeof *out);
    size_t i = 0, n = r->n_values;
    if (i < n && mr_imap_is_list(&v[i])) {
        /* search-correlator = SP "(" "TAG" SP tag-string ")" */
        if (v[i].n_items != 2 || !mr_imap_value_is_atom(&v[i].items[0], "TAG") || !is_astring(&v[i].items[1]))
            return mr_imap_bad(c, v[i].offset, "an ESEARCH correlator is not (TAG string)");
        out->tag = &v[i].items[1];
        i++;
    }
    if (i < n && mr_imap_value_is_atom(&v[i], "UID")) {
        out->uid = 1;
        i++;
    }
    if ((n - i) % 2)
        return mr_imap_bad(c, v[n - 1].offset, "ESEARCH return data are not name/value pairs");
    mr_imap_esearch_item *items;
    int rc = alloc_array(c, (n - i) / 2, sizeof *items, (void **)&items);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    out->items = items;
    out->n = (n - i) / 2;
    for (size_t k = 0; k < out->n; k++, i += 2) {
        const mr_imap_value *name = &v[i], *val = &v[i + 1];
        mr_imap_esearch_item *it = &items[k];
        if (name->type != MR_IMAP_V_ATOM)
            return mr_imap_bad(c, name->offset, "an ESEARCH return data name is not an atom");
        it->name = name->str;
        it->value = val;
        if (mr_span_eq_ci(name->str, "MIN") || mr_span_eq_ci(name->str, "MAX") ||
            mr_span_eq_ci(name->str, "COUNT") || mr_span_eq_ci(name->str, "MODSEQ")) {
            if (val->type != MR_IMAP_V_NUMBER)
                return mr_imap_bad(c, val->offset, "ESEARCH MIN, MAX, COUNT or MODSEQ is not a number");
            it->number = val->num;
        } else if (mr_span_eq_ci(name->str, "ALL")) {
            rc = mr_imap_decode_seqset(c, val, &it->set);
            if (rc != MR_IMAP_DEC_OK)
                return rc;
        }
    }
    return MR_IMAP_DEC_OK;
}

/* ------------------------------------------------------------ THREAD */

/*
 * One thread-list (RFC 5256 5) into *node:
 *   "(" nz-number *(SP nz-number) [SP thread-nested] ")": the numbers are a
 *       chain (each the only child of the one before), the nested lists
 *       are children of the last;
 *   "(" thread-nested ")": a dummy parent (num 0) of the nested lists.
 * c->depth is the depth of *node in the forest.  Every chain member is a
 * level, so "(1 2 3 ... 500)" is 500 levels deep although its list is
 * one: the forest is kept within limits.max_depth (BAD beyond it), so that
 * whoever walks it recursively has the same bound as for the value tree.
 * The recursion here follows the list nesting, which is shallower.
 */
static int thread_node(mr_imap_dctx *c, const mr_imap_value *list, mr_imap_thread_node *node)
{
    if (!mr_imap_is_list(list))
        return mr_imap_bad(c, list->offset, "a THREAD element is not a parenthesised list");
    if (list->n_items == 0)
        return mr_imap_bad(c, list->offset, "an empty thread list");

    size_t nums = 0;
    while (nums < list->n_items && list->items[nums].type == MR_IMAP_V_NUMBER)
        nums++;
    size_t nested = list->n_items - nums;
    size_t levels = nums ? nums : 1; /* the chain, or the dummy */
    if (levels > c->st->lim.max_depth || c->depth > c->st->lim.max_depth - levels)
        return mr_imap_bad(c, list->offset, "a thread is deeper than limits.max_depth");
    for (size_t i = nums; i < list->n_items; i++)
        if (!mr_imap_is_list(&list->items[i]))
            return mr_imap_bad(c, list->items[i].offset, "a thread list has a number after a nested list");
    if (nested == 1)
        mr_imap_diag(c, list->items[nums].offset, "RFC 5256 5", "thread-nested has one thread-list, not two or more");

    /* The chain: node, then nums - 1 more nodes in one array. */
    mr_imap_thread_node *last = node, *chain;
    memset(node, 0, sizeof *node);
    int rc = alloc_array(c, nums > 1 ? nums - 1 : 0, sizeof *chain, (void **)&chain);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < nums; i++) {
        if (list->items[i].num == 0)
            mr_imap_diag(c, list->items[i].offset, "RFC 5256 5", "a thread member is 0, not an nz-number");
        if (i > 0) {
            last->children = &chain[i - 1];
            last->n_children = 1;
            last = &chain[i - 1];
        }
        last->num = list->items[i].num;
    }

    mr_imap_thread_node *kids;
    rc = alloc_array(c, nested, sizeof *kids, (void **)&kids);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    c->depth += levels;
    for (size_t i = 0; i < nested; i++) {
        rc = thread_node(c, &list->items[nums + i], &kids[i]);
        if (rc != MR_IMAP_DEC_OK)
            break;
    }
    c->depth -= levels;
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    last->children = kids;
    last->n_children = nested;
    return MR_IMAP_DEC_OK;
}

/* thread-data = "THREAD" [SP 1*thread-list] (RFC 5256 4, 5). */
static int decode_thread(mr_imap_dctx *c, mr_imap_response *r)
{
    mr_imap_thread_node *roots;
    r->u.thread.roots = NULL;
    r->u.thread.n = 0;
    int rc = alloc_array(c, r->n_values, sizeof *roots, (void **)&roots);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < r->n_values; i++) {
        rc = thread_node(c, &r->values[i], &roots[i]);
        if (rc != MR_IMAP_DEC_OK)
            return rc;
    }
    r->u.thread.roots = roots;
    r->u.thread.n = r->n_values;
    return MR_IMAP_DEC_OK;
}

/* ------------------------------------------------------------ NAMESPACE */

/* namespace = nil / "(" 1*namespace-descr ")" (RFC 9051 9, RFC 2342 5). */
static int decode_ns_list(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_ns_list *out)
{
    memset(out, 0, sizeof *out);
    if (v->type == MR_IMAP_V_NIL) {
        out->nil = 1;
        return MR_IMAP_DEC_OK;
    }
    if (!mr_imap_is_list(v))
        return mr_imap_bad(c, v->offset, "a namespace is not NIL or a list");
    if (v->n_items == 0)
        mr_imap_diag(c, v->offset, "RFC 9051 7.3.2", "an empty namespace list, where NIL means none");

    mr_imap_ns *items;
    int rc = alloc_array(c, v->n_items, sizeof *items, (void **)&items);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < v->n_items; i++) {
        /* namespace-descr = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil)
         *                   *(SP string SP "(" string *(SP string) ")") ")" */
        const mr_imap_value *d = &v->items[i];
        mr_imap_ns *ns = &items[i];
        if (!mr_imap_is_list(d) || d->n_items < 2 || d->n_items % 2)
            return mr_imap_bad(c, d->offset, "a namespace is not (prefix delimiter [extensions])");
        const mr_imap_value *prefix = &d->items[0];
        if (mr_imap_is_atomic(prefix))
            mr_imap_diag(c, prefix->offset, "RFC 9051 7.3.2", "a namespace prefix is an atom, not a string");
        else if (!mr_imap_is_string(prefix) || prefix->streamed)
            return mr_imap_bad(c, prefix->offset, "a namespace prefix is not a string");
        ns->prefix = prefix;
        rc = decode_delimiter(c, &d->items[1], "RFC 9051 7.3.2", &ns->delimiter);
        if (rc != MR_IMAP_DEC_OK)
            return rc;

        size_t n_ext = (d->n_items - 2) / 2;
        mr_imap_ns_ext *exts;
        rc = alloc_array(c, n_ext, sizeof *exts, (void **)&exts);
        if (rc != MR_IMAP_DEC_OK)
            return rc;
        for (size_t k = 0; k < n_ext; k++) {
            const mr_imap_value *name = &d->items[2 + 2 * k], *vals = &d->items[3 + 2 * k];
            if (!is_astring(name))
                return mr_imap_bad(c, name->offset, "a namespace extension name is not a string");
            if (!mr_imap_is_list(vals) || vals->n_items == 0)
                return mr_imap_bad(c, vals->offset, "a namespace extension's values are not a list of strings");
            for (size_t j = 0; j < vals->n_items; j++)
                if (!is_astring(&vals->items[j]))
                    return mr_imap_bad(c, vals->items[j].offset, "a namespace extension value is not a string");
            if (!mr_imap_is_string(name))
                mr_imap_diag(c, name->offset, "RFC 2342 5", "a namespace extension name is an atom, not a string");
            exts[k].name = name;
            exts[k].values = vals->items;
            exts[k].n_values = vals->n_items;
        }
        ns->exts = exts;
        ns->n_exts = n_ext;
    }
    out->items = items;
    out->n = v->n_items;
    return MR_IMAP_DEC_OK;
}

static int decode_namespace(mr_imap_dctx *c, mr_imap_response *r)
{
    mr_imap_namespace *out = &r->u.ns;
    memset(out, 0, sizeof *out);
    if (r->n_values != 3)
        return mr_imap_bad(c, first_offset(r),
                           "NAMESPACE is not three namespaces (personal, other users', shared)");
    int rc = decode_ns_list(c, &r->values[0], &out->personal);
    if (rc == MR_IMAP_DEC_OK)
        rc = decode_ns_list(c, &r->values[1], &out->other);
    if (rc == MR_IMAP_DEC_OK)
        rc = decode_ns_list(c, &r->values[2], &out->shared);
    return rc;
}

/* ------------------------------------------------------------ pairs */

/*
 * Pairs [v, v + n) into params.  Names must be astrings (a non-string
 * name gets the diagnostic name_diag when ref is set); values nstrings
 * (value_nstring), or astrings.
 */
static int decode_pairs(mr_imap_dctx *c, const mr_imap_value *v, size_t n, int value_nstring, const char *ref,
                        const char *bad_detail, mr_imap_params *out)
{
    memset(out, 0, sizeof *out);
    if (n % 2)
        return mr_imap_bad(c, v[n - 1].offset, bad_detail);
    mr_imap_param *items;
    int rc = alloc_array(c, n / 2, sizeof *items, (void **)&items);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < n / 2; i++) {
        const mr_imap_value *name = &v[2 * i], *val = &v[2 * i + 1];
        if (!is_astring(name))
            return mr_imap_bad(c, name->offset, bad_detail);
        if (ref && !mr_imap_is_string(name))
            mr_imap_diag(c, name->offset, ref, "a name is an atom, not a string");
        if (value_nstring) {
            if (!is_nstring(val)) {
                if (!mr_imap_is_atomic(val))
                    return mr_imap_bad(c, val->offset, bad_detail);
                if (ref)
                    mr_imap_diag(c, val->offset, ref, "a value is an atom, not a string");
            }
        } else if (!is_astring(val)) {
            return mr_imap_bad(c, val->offset, bad_detail);
        }
        items[i].name = name;
        items[i].value = val;
    }
    out->items = items;
    out->n = n / 2;
    return MR_IMAP_DEC_OK;
}

/* ID SP id_params_list; id_params_list = "(" #(string SP nstring) ")" / nil (RFC 2971 3.2, 4). */
static int decode_id(mr_imap_dctx *c, mr_imap_response *r)
{
    mr_imap_params *out = &r->u.id.fields;
    memset(out, 0, sizeof *out);
    if (r->n_values != 1 || (!mr_imap_is_list(&r->values[0]) && r->values[0].type != MR_IMAP_V_NIL))
        return mr_imap_bad(c, first_offset(r), "ID is not followed by one list or NIL");
    if (r->values[0].type == MR_IMAP_V_NIL) {
        out->nil = 1;
        return MR_IMAP_DEC_OK;
    }
    return decode_pairs(c, r->values[0].items, r->values[0].n_items, 1, "RFC 2971 4",
                        "ID fields are not string/nstring pairs", out);
}

/* ------------------------------------------------------------ QUOTA, QUOTAROOT */

/* quota-response = "QUOTA" SP quota-root-name SP quota-list (RFC 9208 4.2.1, 7). */
static int decode_quota(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    mr_imap_quota *out = &r->u.quota;
    memset(out, 0, sizeof *out);
    if (r->n_values != 2 || !is_astring(&v[0]) || !mr_imap_is_list(&v[1]))
        return mr_imap_bad(c, first_offset(r), "QUOTA is not a root name and one parenthesised resource list");
    const mr_imap_value *list = &v[1];
    if (list->n_items % 3)
        return mr_imap_bad(c, list->offset, "QUOTA resources are not name/usage/limit triples");
    mr_imap_quota_res *res;
    int rc = alloc_array(c, list->n_items / 3, sizeof *res, (void **)&res);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < list->n_items / 3; i++) {
        const mr_imap_value *t = &list->items[3 * i];
        if (t[0].type != MR_IMAP_V_ATOM)
            return mr_imap_bad(c, t[0].offset, "a QUOTA resource name is not an atom");
        if (t[1].type != MR_IMAP_V_NUMBER)
            return mr_imap_bad(c, t[1].offset, "a QUOTA resource usage is not a number");
        if (t[2].type != MR_IMAP_V_NUMBER)
            return mr_imap_bad(c, t[2].offset, "a QUOTA resource limit is not a number");
        res[i].name = &t[0];
        res[i].usage = t[1].num;
        res[i].limit = t[2].num;
    }
    out->root = &v[0];
    out->res = res;
    out->n_res = list->n_items / 3;
    return MR_IMAP_DEC_OK;
}

/* Pointers to [v, v + n), each an astring. */
static int astring_ptrs(mr_imap_dctx *c, const mr_imap_value *v, size_t n, const char *bad_detail,
                        const mr_imap_value *const **out, size_t *n_out)
{
    const mr_imap_value **ptrs;
    *out = NULL;
    *n_out = 0;
    int rc = alloc_array(c, n, sizeof *ptrs, (void **)&ptrs);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!is_astring(&v[i]))
            return mr_imap_bad(c, v[i].offset, bad_detail);
        ptrs[i] = &v[i];
    }
    *out = ptrs;
    *n_out = n;
    return MR_IMAP_DEC_OK;
}

/* quotaroot-response = "QUOTAROOT" SP mailbox *(SP quota-root-name) (RFC 9208 4.2.2, 7). */
static int decode_quotaroot(mr_imap_dctx *c, mr_imap_response *r)
{
    mr_imap_quotaroot *out = &r->u.quotaroot;
    memset(out, 0, sizeof *out);
    if (r->n_values == 0)
        return mr_imap_bad(c, r->offset, "QUOTAROOT has no mailbox");
    int rc = mr_imap_decode_mailbox(c, &r->values[0], &out->mailbox);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    return astring_ptrs(c, r->values + 1, r->n_values - 1, "a quota root name is not an astring",
                        &out->roots, &out->n_roots);
}

/* ------------------------------------------------------------ METADATA */

/* metadata-resp = "METADATA" SP mailbox SP (entry-values / entry-list) (RFC 5464 4.4, 5). */
static int decode_metadata(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    mr_imap_metadata *out = &r->u.metadata;
    memset(out, 0, sizeof *out);
    if (r->n_values < 2)
        return mr_imap_bad(c, first_offset(r), "METADATA needs a mailbox and entries");
    int rc = mr_imap_decode_mailbox(c, &v[0], &out->mailbox);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    if (mr_imap_is_list(&v[1])) {
        /* entry-values = "(" entry SP value *(SP entry SP value) ")"; value = nstring / literal8 */
        if (r->n_values != 2 || v[1].n_items == 0)
            return mr_imap_bad(c, v[1].offset, "METADATA values are not one list of entry/value pairs");
        out->with_values = 1;
        return decode_pairs(c, v[1].items, v[1].n_items, 1, NULL,
                            "METADATA values are not entry/value pairs", &out->entries);
    }
    /* entry-list = entry *(SP entry) (unsolicited, 4.4.2) */
    return astring_ptrs(c, v + 1, r->n_values - 1, "a METADATA entry is not an astring", &out->names,
                        &out->n_names);
}

/* ------------------------------------------------------------ ACL */

/*
 * RFC 4314 3.6-3.8:
 *   acl-data        = "ACL" SP mailbox *(SP identifier SP rights)
 *   listrights-data = "LISTRIGHTS" SP mailbox SP identifier SP rights *(SP rights)
 *   myrights-data   = "MYRIGHTS" SP mailbox SP rights
 * identifier and rights are astrings.
 */
static int decode_acl(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    mr_imap_acl *out = &r->u.acl;
    memset(out, 0, sizeof *out);
    size_t need = r->type == MR_IMAP_TYPE_ACL ? 1 : r->type == MR_IMAP_TYPE_MYRIGHTS ? 2 : 3;
    if (r->n_values < need || (r->type == MR_IMAP_TYPE_MYRIGHTS && r->n_values != 2))
        return mr_imap_bad(c, last_offset(r),
                           r->type == MR_IMAP_TYPE_ACL        ? "ACL has no mailbox"
                           : r->type == MR_IMAP_TYPE_MYRIGHTS ? "MYRIGHTS is not a mailbox and rights"
                                                              : "LISTRIGHTS is not a mailbox, an identifier and rights");
    int rc = mr_imap_decode_mailbox(c, &v[0], &out->mailbox);
    if (rc != MR_IMAP_DEC_OK)
        return rc;
    switch (r->type) {
    case MR_IMAP_TYPE_ACL:
        return decode_pairs(c, v + 1, r->n_values - 1, 0, NULL, "ACL entries are not identifier/rights pairs",
                            &out->entries);
    case MR_IMAP_TYPE_MYRIGHTS:
        if (!is_astring(&v[1]))
            return mr_imap_bad(c, v[1].offset, "MYRIGHTS rights are not an astring");
        out->rights = &v[1];
        return MR_IMAP_DEC_OK;
    default: /* LISTRIGHTS */
        if (!is_astring(&v[1]))
            return mr_imap_bad(c, v[1].offset, "a LISTRIGHTS identifier is not an astring");
        if (!is_astring(&v[2]))
            return mr_imap_bad(c, v[2].offset, "LISTRIGHTS rights are not an astring");
        out->identifier = &v[1];
        out->rights = &v[2];
        return astring_ptrs(c, v + 3, r->n_values - 3, "LISTRIGHTS rights are not an astring", &out->optional,
                            &out->n_optional);
    }
}

/* ------------------------------------------------------------ VANISHED */

/* expunged-resp = "VANISHED" [SP "(EARLIER)"] SP known-uids (RFC 7162 3.2.10, 7). */
static int decode_vanished(mr_imap_dctx *c, mr_imap_response *r)
{
    const mr_imap_value *v = r->values;
    mr_imap_vanished *out = &r->u.vanished;
    memset(out, 0, sizeof *out);
    size_t i = 0;
    if (r->n_values > 0 && mr_imap_is_list(&v[0])) {
        if (v[0].n_items != 1 || !mr_imap_value_is_atom(&v[0].items[0], "EARLIER"))
            return mr_imap_bad(c, v[0].offset, "VANISHED is followed by a list that is not (EARLIER)");
        out->earlier = 1;
        i = 1;
    }
    if (r->n_values != i + 1)
        return mr_imap_bad(c, last_offset(r), "VANISHED is not followed by one UID set");
    return mr_imap_decode_seqset(c, &v[i], &out->uids);
}

/* ------------------------------------------------------------ dispatch */

int mr_imap_decode_data(mr_imap_dctx *c, mr_imap_response *r)
{
    switch (r->type) {
    case MR_IMAP_TYPE_CAPABILITY: /* RFC 9051 7.2.2 */
    case MR_IMAP_TYPE_ENABLED:    /* RFC 5161 4, RFC 9051 7.2.1 */
        return decode_capability(c, r);
    case MR_IMAP_TYPE_FLAGS:
        return decode_flags(c, r);
    case MR_IMAP_TYPE_LIST:
    case MR_IMAP_TYPE_LSUB:
        return decode_list(c, r);
    case MR_IMAP_TYPE_STATUS:
        return decode_status(c, r);
    case MR_IMAP_TYPE_SEARCH:
    case MR_IMAP_TYPE_SORT:
        return decode_search(c, r);
    case MR_IMAP_TYPE_ESEARCH:
        return decode_esearch(c, r);
    case MR_IMAP_TYPE_THREAD:
        return decode_thread(c, r);
    case MR_IMAP_TYPE_NAMESPACE:
        return decode_namespace(c, r);
    case MR_IMAP_TYPE_ID:
        return decode_id(c, r);
    case MR_IMAP_TYPE_QUOTA:
        return decode_quota(c, r);
    case MR_IMAP_TYPE_QUOTAROOT:
        return decode_quotaroot(c, r);
    case MR_IMAP_TYPE_METADATA:
        return decode_metadata(c, r);
    case MR_IMAP_TYPE_ACL:
    case MR_IMAP_TYPE_MYRIGHTS:
    case MR_IMAP_TYPE_LISTRIGHTS:
        return decode_acl(c, r);
    case MR_IMAP_TYPE_VANISHED:
        return decode_vanished(c, r);
    default:
        /* EXISTS, RECENT, EXPUNGE: the number is r->number.  Others are
         * not data this file decodes. */
        return MR_IMAP_DEC_OK;
    }
}
