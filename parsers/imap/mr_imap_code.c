/*
 * mr_imap_code.c - typed response codes: the "[...]" of resp-text.
 *
 * mr_imap.c finds the brackets and hands over the code's name, its raw
 * argument text and, when that text parses, its arguments as values.
 * This file names the code (ASCII case-insensitively, MR_IMAP_CODE_MAP)
 * and fills the typed fields.  Grammar: RFC 9051 7.1 and 9 (resp-text-code),
 * RFC 3501 7.1 (UNSEEN), RFC 4315 3 (APPENDUID, COPYUID, UIDNOTSTICKY),
 * RFC 5530 3, RFC 7162 3.1.2 and 3.1.3 (HIGHESTMODSEQ, NOMODSEQ, MODIFIED),
 * RFC 2221 (REFERRAL), RFC 5464 4.2.1 and 4.3 (METADATA), RFC 8474
 * (MAILBOXID), RFC 4978 (COMPRESSIONACTIVE), RFC 6154 (USEATTR).
 *
 * A response code never makes its response BAD: the code only qualifies
 * the status response, and its text must reach the user.  So
 *   - an unknown code is kind OTHER, name and args_text kept, no error;
 *   - a known code whose arguments do not have its form (UIDNEXT abc)
 *     keeps its kind, leaves its typed fields zero and records a strict
 *     diagnostic; the result is MR_IMAP_DEC_OK;
 *   - a code that takes no argument but got one keeps it in args_text,
 *     with a strict diagnostic.
 * Only MR_IMAP_DEC_NOMEM is returned besides OK.
 */
#include "mr_imap_int.h"

/* What a code's arguments look like. */
enum arg_form {
    ARG_ANY = 0,    /* not checked (unknown codes; a kind missing from k_codes) */
    ARG_NONE,       /* nothing */
    ARG_CHARSETS,   /* BADCHARSET [SP "(" charset *(SP charset) ")"] */
    ARG_CAPAS,      /* capability *(SP capability) */
    ARG_FLAGS,      /* "(" [flag-perm *(SP flag-perm)] ")" */
    ARG_NUMBER,     /* one number */
    ARG_APPENDUID,  /* nz-number SP append-uid */
    ARG_COPYUID,    /* nz-number SP uid-set SP uid-set */
    ARG_SET,        /* sequence-set */
    ARG_URL,        /* 1*(SP url) */
    ARG_METADATA,   /* LONGENTRIES SP number / MAXSIZE SP number / TOOMANY / NOPRIVATE */
    ARG_OBJECTID    /* "(" objectid ")" */
};

typedef struct code_info {
    enum arg_form form;
    const char *ref;
} code_info;

/* The wire names, indexed by mr_imap_code_kind. */
static const char *const k_wire[MR_IMAP_CODE__COUNT] = {
    "",
#define MR_XX(name, wire) wire,
    MR_IMAP_CODE_MAP(MR_XX)
#undef MR_XX
};

/* Argument form and the rule to cite, indexed by mr_imap_code_kind. */
static const code_info k_codes[MR_IMAP_CODE__COUNT] = {
    [MR_IMAP_CODE_NONE] = {ARG_ANY, "RFC 9051 7.1"},
    [MR_IMAP_CODE_ALERT] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_BADCHARSET] = {ARG_CHARSETS, "RFC 9051 7.1"},
    [MR_IMAP_CODE_CAPABILITY] = {ARG_CAPAS, "RFC 9051 7.1"},
    [MR_IMAP_CODE_PARSE] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_PERMANENTFLAGS] = {ARG_FLAGS, "RFC 9051 7.1"},
    [MR_IMAP_CODE_READ_ONLY] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_READ_WRITE] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_TRYCREATE] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_UIDNEXT] = {ARG_NUMBER, "RFC 9051 7.1"},
    [MR_IMAP_CODE_UIDVALIDITY] = {ARG_NUMBER, "RFC 9051 7.1"},
    [MR_IMAP_CODE_UNSEEN] = {ARG_NUMBER, "RFC 3501 7.1"},
    [MR_IMAP_CODE_APPENDUID] = {ARG_APPENDUID, "RFC 4315 3"},
    [MR_IMAP_CODE_COPYUID] = {ARG_COPYUID, "RFC 4315 3"},
    [MR_IMAP_CODE_UIDNOTSTICKY] = {ARG_NONE, "RFC 4315 3"},
    [MR_IMAP_CODE_HIGHESTMODSEQ] = {ARG_NUMBER, "RFC 7162 3.1.2.1"},
    [MR_IMAP_CODE_NOMODSEQ] = {ARG_NONE, "RFC 7162 3.1.2.2"},
    [MR_IMAP_CODE_MODIFIED] = {ARG_SET, "RFC 7162 3.1.3"},
    [MR_IMAP_CODE_CLOSED] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_UNAVAILABLE] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_AUTHENTICATIONFAILED] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_AUTHORIZATIONFAILED] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_EXPIRED] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_PRIVACYREQUIRED] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_CONTACTADMIN] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_NOPERM] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_INUSE] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_EXPUNGEISSUED] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_CORRUPTION] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_SERVERBUG] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_CLIENTBUG] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_CANNOT] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_LIMIT] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_OVERQUOTA] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_ALREADYEXISTS] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_NONEXISTENT] = {ARG_NONE, "RFC 5530 3"},
    [MR_IMAP_CODE_REFERRAL] = {ARG_URL, "RFC 2221 3"},
    [MR_IMAP_CODE_NOTSAVED] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_HASCHILDREN] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_METADATA] = {ARG_METADATA, "RFC 5464 5"},
    [MR_IMAP_CODE_UNKNOWN_CTE] = {ARG_NONE, "RFC 9051 7.1"},
    [MR_IMAP_CODE_COMPRESSIONACTIVE] = {ARG_NONE, "RFC 4978 3"},
    [MR_IMAP_CODE_USEATTR] = {ARG_NONE, "RFC 6154 6"},
    [MR_IMAP_CODE_MAILBOXID] = {ARG_OBJECTID, "RFC 8474 4.1"},
    [MR_IMAP_CODE_OTHER] = {ARG_ANY, "RFC 9051 7.1"},
};

/*
 * Spans of atoms (capabilities, flags) or, with strings = 1, of astrings
 * (charsets, RFC 9051 9: charset = atom / quoted).  0 when a value does
 * not fit; -1 (and the store's error) when allocation fails.
 */
static int code_atoms(mr_imap_dctx *c, const mr_imap_value *v, size_t n, int strings, mr_imap_code *code)
{
    if (n == 0)
        return 1;
    mr_span *items = mr_imap_alloc_zero(c, n, sizeof *items);
    if (!items)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (mr_imap_is_atomic(&v[i]) || (strings && mr_imap_is_string(&v[i]) && !v[i].streamed))
            items[i] = v[i].str;
        else
            return 0;
    }
    code->atoms = items;
    code->n_atoms = n;
    return 1;
}

/* One seqset; 1 ok, 0 not a set, -1 no memory. */
static int code_set(mr_imap_dctx *c, const mr_imap_value *v, mr_imap_seqset *out)
{
    int rc = mr_imap_decode_seqset(c, v, out);
    if (rc == MR_IMAP_DEC_NOMEM)
        return -1;
    return rc == MR_IMAP_DEC_OK;
}

/* METADATA code argument text (RFC 5464 5): text, and number when one follows. */
static int code_metadata(mr_span args, mr_imap_code *code)
{
    mr_cursor cur = mr_cur_from_span(args);
    mr_span word;
    if (!mr_cur_get_word(&cur, &word))
        return 0;
    int wants_number = mr_span_eq_ci(word, "LONGENTRIES") || mr_span_eq_ci(word, "MAXSIZE");
    if (!wants_number && !mr_span_eq_ci(word, "TOOMANY") && !mr_span_eq_ci(word, "NOPRIVATE"))
        return 0;
    code->text = word;
    if (wants_number) {
        if (mr_cur_skip_space(&cur) != 1 || !mr_cur_get_u64(&cur, &code->number))
            return 0;
    }
    return mr_cur_empty(&cur);
}

/* Drop the typed results of a code whose arguments did not fit. */
static void clear_typed(mr_imap_code *code)
{
    code->number = 0;
    memset(&code->set1, 0, sizeof code->set1);
    memset(&code->set2, 0, sizeof code->set2);
    code->atoms = NULL;
    code->n_atoms = 0;
    code->text.ptr = NULL;
    code->text.len = 0;
}

int mr_imap_decode_code(mr_imap_dctx *c, mr_imap_code *code)
{
    code->kind = MR_IMAP_CODE_OTHER;
    for (int k = MR_IMAP_CODE_NONE + 1; k < MR_IMAP_CODE_OTHER; k++)
        if (mr_span_eq_ci(code->name, k_wire[k])) {
            code->kind = (mr_imap_code_kind)k;
            break;
        }
    clear_typed(code);

    const code_info *info = &k_codes[code->kind];
    mr_span args_text = mr_span_rtrim(code->args_text);
    const mr_imap_value *a = code->args;
    size_t n = code->n_args;
    int has_args = args_text.len > 0;
    int ok = 1; /* the arguments fit the code's form */
    uint64_t at = code->n_args ? a[0].offset : code->offset;

    switch (info->form) {
    case ARG_ANY:
        return MR_IMAP_DEC_OK;
    case ARG_NONE:
        if (has_args)
            mr_imap_diag(c, at, info->ref, "a response code that takes no argument has one");
        return MR_IMAP_DEC_OK;
    case ARG_CHARSETS:
        if (!has_args)
            return MR_IMAP_DEC_OK;
        ok = n == 1 && a[0].type == MR_IMAP_V_LIST && a[0].n_items > 0;
        if (ok) {
            ok = code_atoms(c, a[0].items, a[0].n_items, 1, code);
        } else if (n > 0) {
            /* "[BADCHARSET UTF-8]", as RFC 9051 6.4.4.4's own example has it */
            ok = code_atoms(c, a, n, 1, code);
            if (ok == 1)
                mr_imap_diag(c, at, info->ref, "BADCHARSET's charsets are not in parentheses");
        }
        break;
    case ARG_CAPAS:
        ok = n > 0 ? code_atoms(c, a, n, 0, code) : 0;
        if (ok == 1 && !mr_imap_has_imap4rev(code->atoms, code->n_atoms))
            mr_imap_diag(c, at, "RFC 9051 9", "a CAPABILITY code lists neither IMAP4rev2 nor IMAP4rev1");
        break;
    case ARG_FLAGS:
        ok = n == 1 && a[0].type == MR_IMAP_V_LIST;
        if (ok)
            ok = code_atoms(c, a[0].items, a[0].n_items, 0, code);
        break;
    case ARG_NUMBER:
        ok = n == 1 && a[0].type == MR_IMAP_V_NUMBER;
        if (ok)
            code->number = a[0].num;
        if (ok && code->number == 0 && (code->kind == MR_IMAP_CODE_UIDNEXT || code->kind == MR_IMAP_CODE_UIDVALIDITY))
            mr_imap_diag(c, at, info->ref, "UIDNEXT or UIDVALIDITY is 0, not an nz-number");
        if (ok && code->number == 0 && code->kind == MR_IMAP_CODE_HIGHESTMODSEQ)
            /* mod-sequence-value; only the STATUS item may be 0 (mod-sequence-valzer) */
            mr_imap_diag(c, at, "RFC 7162 7", "HIGHESTMODSEQ is 0, not a mod-sequence-value (NOMODSEQ means none)");
        break;
    case ARG_APPENDUID:
    case ARG_COPYUID:
        ok = n == (info->form == ARG_APPENDUID ? 2u : 3u) && a[0].type == MR_IMAP_V_NUMBER;
        if (ok) {
            code->number = a[0].num;
            if (code->number == 0)
                mr_imap_diag(c, at, info->ref, "a UIDVALIDITY is 0, not an nz-number");
            ok = code_set(c, &a[1], &code->set1);
        }
        if (ok == 1 && info->form == ARG_COPYUID)
            ok = code_set(c, &a[2], &code->set2);
        break;
    case ARG_SET:
        ok = n == 1 ? code_set(c, &a[0], &code->set1) : 0;
        break;
    case ARG_URL:
        /* RFC 2221: "REFERRAL" 1*(SP url); the URLs are kept as sent (a URL
         * may hold "*", which is no atom character). */
        code->text = args_text;
        ok = has_args;
        break;
    case ARG_METADATA:
        ok = code_metadata(args_text, code);
        break;
    case ARG_OBJECTID:
        /* RFC 8474: "MAILBOXID" SP "(" objectid ")" */
        ok = n == 1 && a[0].type == MR_IMAP_V_LIST && a[0].n_items == 1 &&
             mr_imap_is_atomic(&a[0].items[0]);
        if (ok)
            code->text = a[0].items[0].str;
        break;
    }
    if (ok < 0)
        return MR_IMAP_DEC_NOMEM;
    if (!ok) {
        clear_typed(code);
        mr_imap_diag(c, at, info->ref, "a response code's arguments do not have the form its RFC gives");
    }
    return MR_IMAP_DEC_OK;
}
