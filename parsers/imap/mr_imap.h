/*
 * mr_imap.h - sans-I/O parser of what an IMAP server sends.
 *
 * Grammar from RFC 9051 (IMAP4rev2) and RFC 3501 (IMAP4rev1) section 9 /
 * 7, with the extensions in shared/rfc: QUOTA (RFC 9208, 2087), IDLE
 * (2177), NAMESPACE (2342), ID (2971), CHILDREN (3348), BINARY (3516),
 * UIDPLUS (4315), ESEARCH (4731), ENABLE (5161), SORT/THREAD (5256),
 * LIST-EXTENDED (5258), METADATA (5464), response codes (5530), LIST-STATUS
 * (5819), SPECIAL-USE (6154), MOVE (6851), UTF8=ACCEPT (6855), CONDSTORE
 * and QRESYNC (7162), LITERAL+ (7888); ACL (4314), OBJECTID (8474), SAVEDATE
 * (8514) and PREVIEW (8970) as their grammar is quoted in docs/parsers.md.
 *
 * A response is parsed in two layers:
 *
 *   1. Syntax.  The response (its lines and the literals between them) is
 *      framed incrementally: only new bytes are scanned, a literal {n} or
 *      ~{n} is counted, not scanned.  When the last line arrives the
 *      response is read once into a generic value tree (mr_imap_value:
 *      atoms, numbers, strings, NIL, lists), which is what the printer
 *      prints back.  Anything the parser does not know (a new extension)
 *      still parses into this tree.
 *   2. Meaning.  The tree of a known response is decoded into typed
 *      structures (ENVELOPE, BODYSTRUCTURE, STATUS items, ...).  A known
 *      response whose tree does not have the shape its RFC gives is still
 *      delivered with its tree, as a non-fatal MR_E_BAD_FIELD error.
 *
 * Literals larger than limits.stream_threshold are not kept: their bytes
 * are handed out as MR_EV_BODY_CHUNK events (ev.literal says which literal
 * of the response and where in it), and the value in the response is
 * marked streamed.  A 1 GB BODY[] needs no 1 GB of parser memory.
 *
 * Feeding, lifetimes and errors are as for mr_pop3.h: call mr_imap_next()
 * until it returns MR_EV_NEED_MORE; everything handed out is valid until
 * the next call on the parser.
 *
 * Commands are optional.  IMAP responses say what they are, so the parser
 * needs no command to frame them; mr_imap_expect_line() tells it which tag
 * belongs to which command, so that a tagged response names the command it
 * completes, an AUTHENTICATE continuation is decoded as base64 (RFC 9051
 * 6.2.2), and strict mode can flag a tag nobody sent.
 */
#ifndef MR_IMAP_H
#define MR_IMAP_H

#include "../core/mr_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ values */

typedef enum mr_imap_vtype {
    MR_IMAP_V_NIL = 0,  /* NIL */
    MR_IMAP_V_ATOM,     /* atom, flag (\Seen, \*), sequence set, fetch-att name */
    MR_IMAP_V_NUMBER,   /* digits only, fitting uint64_t (text kept in raw) */
    MR_IMAP_V_QUOTED,   /* "..." */
    MR_IMAP_V_LITERAL,  /* {n} CRLF bytes, or {n+} (RFC 7888) */
    MR_IMAP_V_LITERAL8, /* ~{n} CRLF bytes (RFC 3516) */
    MR_IMAP_V_LIST      /* ( ... ) */
} mr_imap_vtype;

const char *mr_imap_vtype_name(mr_imap_vtype t); /* "nil", "atom", ... */

/*
 * One node of the generic value tree.
 *
 * An atom directly followed by "[" carries a section: BODY[1.2.HEADER]
 * is the atom BODY with has_section = 1 and items = the values inside the
 * brackets (here one atom, "1.2.HEADER"; BODY[HEADER.FIELDS (From)] has an
 * atom and a list; BODY[] has none), and <n> after it sets has_origin.
 */
typedef struct mr_imap_value {
    uint8_t type;          /* mr_imap_vtype */
    uint8_t has_section;   /* ATOM: "[...]" followed */
    uint8_t has_origin;    /* ATOM: "<n>" followed the section */
    uint8_t nonsync;       /* LITERAL: sent as {n+} */
    uint8_t streamed;      /* LITERAL, LITERAL8: handed out as chunks, str is empty */
    uint8_t escaped;       /* QUOTED: raw contains backslash escapes */
    uint32_t literal_index;/* LITERAL, LITERAL8: 0-based index among the response's literals */
    mr_span raw;           /* ATOM, NUMBER: the bytes; QUOTED: between the quotes, as sent */
    mr_span str;           /* ATOM, NUMBER: = raw; QUOTED: unescaped; LITERAL*: the bytes */
    uint64_t num;          /* NUMBER: value; LITERAL*: declared size; ATOM: origin */
    uint64_t offset;       /* stream offset of the value's first byte */
    const struct mr_imap_value *items; /* LIST: elements; ATOM with section: section */
    size_t n_items;
} mr_imap_value;

/* 1 when v is a string (QUOTED, LITERAL, LITERAL8) or, with astring = 1, an ATOM/NUMBER. */
int mr_imap_value_is_string(const mr_imap_value *v, int astring);

/* ------------------------------------------------------------ small types */

/* A sequence set or UID set (RFC 9051 9, sequence-set).  '*' is MR_IMAP_STAR. */
#define MR_IMAP_STAR UINT64_MAX
typedef struct mr_imap_range {
    uint64_t lo, hi; /* lo == hi for one number; as sent, lo may be > hi */
} mr_imap_range;

typedef struct mr_imap_seqset {
    const mr_imap_range *ranges;
    size_t n;
} mr_imap_seqset;

/* A date-time (RFC 9051 9, date-time: "17-Jul-1996 02:44:25 -0700"). */
typedef struct mr_imap_time {
    int year, month, day, hour, minute, second; /* month 1-12 */
    int zone;          /* offset from UTC in minutes (-0700 -> -420) */
    int64_t unix_time; /* seconds since 1970-01-01T00:00:00Z */
} mr_imap_time;

/* A string, or NIL (v == NULL or v->type == MR_IMAP_V_NIL). */
typedef const mr_imap_value *mr_imap_nstring;

/* A mailbox name: as sent, and as UTF-8 (RFC 3501 5.1.3 modified UTF-7
 * decoded, or taken as UTF-8 after UTF8=ACCEPT, RFC 6855 3). */
typedef struct mr_imap_mailbox {
    const mr_imap_value *value; /* the astring as sent */
    mr_span name;               /* UTF-8; "INBOX" for any case of inbox */
    uint8_t mutf7_ok;           /* 0: not valid modified UTF-7, name = raw bytes */
} mr_imap_mailbox;

/* ------------------------------------------------------------ response codes */

/* XX(NAME, "WIRE-ATOM") */
#define MR_IMAP_CODE_MAP(XX)                                   \
    XX(ALERT, "ALERT")                                         \
    XX(BADCHARSET, "BADCHARSET")         /* atoms: charsets */ \
    XX(CAPABILITY, "CAPABILITY")         /* atoms */           \
    XX(PARSE, "PARSE")                                         \
    XX(PERMANENTFLAGS, "PERMANENTFLAGS") /* atoms: flags */    \
    XX(READ_ONLY, "READ-ONLY")                                 \
    XX(READ_WRITE, "READ-WRITE")                               \
    XX(TRYCREATE, "TRYCREATE")                                 \
    XX(UIDNEXT, "UIDNEXT")               /* number */          \
    XX(UIDVALIDITY, "UIDVALIDITY")       /* number */          \
    XX(UNSEEN, "UNSEEN")                 /* number */          \
    XX(APPENDUID, "APPENDUID")           /* number, set1 */    \
    XX(COPYUID, "COPYUID")               /* number, set1, set2 */ \
    XX(UIDNOTSTICKY, "UIDNOTSTICKY")                           \
    XX(HIGHESTMODSEQ, "HIGHESTMODSEQ")   /* number */          \
    XX(NOMODSEQ, "NOMODSEQ")                                   \
    XX(MODIFIED, "MODIFIED")             /* set1 */            \
    XX(CLOSED, "CLOSED")                                       \
    XX(UNAVAILABLE, "UNAVAILABLE")                             \
    XX(AUTHENTICATIONFAILED, "AUTHENTICATIONFAILED")           \
    XX(AUTHORIZATIONFAILED, "AUTHORIZATIONFAILED")             \
    XX(EXPIRED, "EXPIRED")                                     \
    XX(PRIVACYREQUIRED, "PRIVACYREQUIRED")                     \
    XX(CONTACTADMIN, "CONTACTADMIN")                           \
    XX(NOPERM, "NOPERM")                                       \
    XX(INUSE, "INUSE")                                         \
    XX(EXPUNGEISSUED, "EXPUNGEISSUED")                         \
    XX(CORRUPTION, "CORRUPTION")                               \
    XX(SERVERBUG, "SERVERBUG")                                 \
    XX(CLIENTBUG, "CLIENTBUG")                                 \
    XX(CANNOT, "CANNOT")                                       \
    XX(LIMIT, "LIMIT")                                         \
    XX(OVERQUOTA, "OVERQUOTA")                                 \
    XX(ALREADYEXISTS, "ALREADYEXISTS")                         \
    XX(NONEXISTENT, "NONEXISTENT")                             \
    XX(REFERRAL, "REFERRAL")             /* text: the URL */   \
    XX(NOTSAVED, "NOTSAVED")                                   \
    XX(HASCHILDREN, "HASCHILDREN")                             \
    XX(METADATA, "METADATA")             /* text: LONGENTRIES|MAXSIZE|TOOMANY|NOPRIVATE, number */ \
    XX(UNKNOWN_CTE, "UNKNOWN-CTE")                             \
    XX(COMPRESSIONACTIVE, "COMPRESSIONACTIVE")                 \
    XX(USEATTR, "USEATTR")                                     \
    XX(MAILBOXID, "MAILBOXID")           /* text: the objectid (RFC 8474) */ \
    XX(OTHER, "")                        /* unknown: name and args_text kept */

typedef enum mr_imap_code_kind {
    MR_IMAP_CODE_NONE = 0,
#define MR_XX(name, wire) MR_IMAP_CODE_##name,
    MR_IMAP_CODE_MAP(MR_XX)
#undef MR_XX
    MR_IMAP_CODE__COUNT
} mr_imap_code_kind;

const char *mr_imap_code_name(mr_imap_code_kind k); /* the wire atom; "OTHER", "NONE" */

typedef struct mr_imap_code {
    mr_imap_code_kind kind;
    uint64_t offset;           /* stream offset of the code's name (after "[") */
    mr_span name;              /* the atom as sent */
    mr_span args_text;         /* everything after "atom SP" up to "]", as sent */
    const mr_imap_value *args; /* args_text read as values (n_args 0 if it does not parse) */
    size_t n_args;
    /* Typed, by kind (see the map). */
    uint64_t number;
    mr_imap_seqset set1, set2;
    const mr_span *atoms;
    size_t n_atoms;
    mr_span text;              /* REFERRAL url, METADATA subcode, MAILBOXID id */
} mr_imap_code;

/* ------------------------------------------------------------ FETCH */

/* Address (RFC 9051 9, address); groups per RFC 9051 7.5.2 (ENVELOPE). */
typedef enum mr_imap_addr_kind {
    MR_IMAP_ADDR_MAILBOX = 0,  /* name, adl, mailbox, host */
    MR_IMAP_ADDR_GROUP_START,  /* host NIL: mailbox is the group name */
    MR_IMAP_ADDR_GROUP_END     /* mailbox and host NIL */
} mr_imap_addr_kind;

typedef struct mr_imap_address {
    mr_imap_addr_kind kind;
    mr_imap_nstring name, adl, mailbox, host;
} mr_imap_address;

typedef struct mr_imap_addresses {
    const mr_imap_address *items; /* NIL list: n == 0 and nil == 1 */
    size_t n;
    int nil;
} mr_imap_addresses;

typedef struct mr_imap_envelope {
    mr_imap_nstring date, subject;
    mr_imap_addresses from, sender, reply_to, to, cc, bcc;
    mr_imap_nstring in_reply_to, message_id;
} mr_imap_envelope;

/* A parameter list: ("name" "value" ...), or NIL (n == 0, nil == 1). */
typedef struct mr_imap_param {
    const mr_imap_value *name, *value;
} mr_imap_param;

typedef struct mr_imap_params {
    const mr_imap_param *items;
    size_t n;
    int nil;
} mr_imap_params;

/* body-fld-dsp: ("attachment" ("filename" "x")) or NIL (type NULL). */
typedef struct mr_imap_disposition {
    mr_imap_nstring type;
    mr_imap_params params;
} mr_imap_disposition;

/* BODY and BODYSTRUCTURE (RFC 9051 7.5.2, 9 body). */
typedef struct mr_imap_body {
    int multipart;
    mr_imap_nstring type;      /* single part: "TEXT", "MESSAGE", ...; multipart: NULL */
    mr_imap_nstring subtype;   /* "PLAIN", "MIXED", ... */
    const struct mr_imap_body *parts; /* multipart children; message/rfc822: the one body */
    size_t n_parts;
    /* single part: body-fields */
    mr_imap_params params;
    mr_imap_nstring id, description, encoding;
    uint64_t size;
    uint64_t lines;                /* TEXT and MESSAGE/RFC822 (has_lines) */
    int has_lines;
    const mr_imap_envelope *envelope; /* MESSAGE/RFC822 (and GLOBAL) */
    /* Extension data, present only as far as the server sent it: ext_count
     * says how many extension fields came (single: md5, dsp, lang, loc;
     * multipart: params, dsp, lang, loc), more go to extensions. */
    int ext_count;
    mr_imap_nstring md5;           /* single part */
    mr_imap_params ext_params;     /* multipart */
    mr_imap_disposition disposition;
    const mr_imap_value *language; /* nstring or list of strings, as sent */
    mr_imap_nstring location;
    const mr_imap_value *extensions; /* body-extension values after location */
    size_t n_extensions;
} mr_imap_body;

#define MR_IMAP_FETCH_MAP(XX)                                         \
    XX(FLAGS, "FLAGS")                 /* atoms */                    \
    XX(UID, "UID")                     /* number */                   \
    XX(INTERNALDATE, "INTERNALDATE")   /* time */                     \
    XX(RFC822_SIZE, "RFC822.SIZE")     /* number */                   \
    XX(RFC822, "RFC822")               /* data */                     \
    XX(RFC822_HEADER, "RFC822.HEADER") /* data */                     \
    XX(RFC822_TEXT, "RFC822.TEXT")     /* data */                     \
    XX(ENVELOPE, "ENVELOPE")           /* envelope */                 \
    XX(BODY, "BODY")                   /* body (no section: structure) */ \
    XX(BODYSTRUCTURE, "BODYSTRUCTURE") /* body */                     \
    XX(BODY_SECTION, "BODY[]")         /* section, origin, data */    \
    XX(BINARY, "BINARY[]")             /* section, origin, data (RFC 3516) */ \
    XX(BINARY_SIZE, "BINARY.SIZE[]")   /* section, number */          \
    XX(MODSEQ, "MODSEQ")               /* number (RFC 7162 3.1.4) */  \
    XX(EMAILID, "EMAILID")             /* data: objectid (RFC 8474) */ \
    XX(THREADID, "THREADID")           /* data: objectid or NIL */    \
    XX(SAVEDATE, "SAVEDATE")           /* time, or data NIL (RFC 8514) */ \
    XX(PREVIEW, "PREVIEW")             /* data (RFC 8970) */          \
    XX(OTHER, "")                      /* unknown: value only */

typedef enum mr_imap_fetch_kind {
#define MR_XX(name, wire) MR_IMAP_FETCH_##name,
    MR_IMAP_FETCH_MAP(MR_XX)
#undef MR_XX
    MR_IMAP_FETCH__COUNT
} mr_imap_fetch_kind;

const char *mr_imap_fetch_kind_name(mr_imap_fetch_kind k); /* "FLAGS", "BODY[]", ... */

typedef struct mr_imap_fetch_item {
    mr_imap_fetch_kind kind;
    const mr_imap_value *name;   /* the item name atom (with its section and origin) */
    const mr_imap_value *value;  /* the value as sent */
    mr_span section;             /* BODY[...], BINARY[...]: section text between brackets, normalised */
    uint64_t origin;             /* <n> */
    int has_origin;
    /* typed, by kind */
    uint64_t number;             /* UID, RFC822.SIZE, BINARY.SIZE, MODSEQ */
    const mr_span *atoms;        /* FLAGS */
    size_t n_atoms;
    mr_imap_time time;           /* INTERNALDATE, SAVEDATE (has_time) */
    int has_time;
    mr_imap_nstring data;        /* RFC822*, BODY[], BINARY[], EMAILID, THREADID, PREVIEW, SAVEDATE NIL */
    const mr_imap_envelope *envelope;
    const mr_imap_body *body;    /* BODY, BODYSTRUCTURE */
} mr_imap_fetch_item;

typedef struct mr_imap_fetch {
    const mr_imap_fetch_item *items;
    size_t n;
} mr_imap_fetch;

/* ------------------------------------------------------------ other data */

/* Mailbox attributes (LIST, LSUB), RFC 9051 7.3.1, 3348, 5258, 6154. */
enum {
    MR_IMAP_MBX_NOINFERIORS = 1u << 0,
    MR_IMAP_MBX_NOSELECT = 1u << 1,
    MR_IMAP_MBX_MARKED = 1u << 2,
    MR_IMAP_MBX_UNMARKED = 1u << 3,
    MR_IMAP_MBX_NONEXISTENT = 1u << 4,
    MR_IMAP_MBX_SUBSCRIBED = 1u << 5,
    MR_IMAP_MBX_REMOTE = 1u << 6,
    MR_IMAP_MBX_HASCHILDREN = 1u << 7,
    MR_IMAP_MBX_HASNOCHILDREN = 1u << 8,
    MR_IMAP_MBX_ALL = 1u << 9,
    MR_IMAP_MBX_ARCHIVE = 1u << 10,
    MR_IMAP_MBX_DRAFTS = 1u << 11,
    MR_IMAP_MBX_FLAGGED = 1u << 12,
    MR_IMAP_MBX_JUNK = 1u << 13,
    MR_IMAP_MBX_SENT = 1u << 14,
    MR_IMAP_MBX_TRASH = 1u << 15,
    MR_IMAP_MBX_IMPORTANT = 1u << 16
};

/* "\\Noselect" for MR_IMAP_MBX_NOSELECT, NULL for other values. */
const char *mr_imap_mbx_attr_name(unsigned bit);

typedef struct mr_imap_list {
    const mr_span *attrs;    /* as sent */
    size_t n_attrs;
    unsigned attr_bits;      /* MR_IMAP_MBX_* of the known ones */
    int delimiter;           /* the hierarchy delimiter byte, or -1 for NIL */
    mr_imap_mailbox mailbox;
    const mr_imap_value *childinfo; /* CHILDINFO list (RFC 5258), NULL if absent */
    int has_oldname;
    mr_imap_mailbox oldname;        /* OLDNAME (RFC 9051 7.3.1) */
    const mr_imap_value *extended;  /* mbox-list-extended list as sent, NULL if absent */
} mr_imap_list;

/* STATUS items (RFC 9051 7.3.3; RFC 7162 HIGHESTMODSEQ; RFC 9208 DELETED-STORAGE; RFC 8474 MAILBOXID). */
#define MR_IMAP_STATUS_MAP(XX)            \
    XX(MESSAGES, "MESSAGES")              \
    XX(RECENT, "RECENT")                  \
    XX(UIDNEXT, "UIDNEXT")                \
    XX(UIDVALIDITY, "UIDVALIDITY")        \
    XX(UNSEEN, "UNSEEN")                  \
    XX(DELETED, "DELETED")                \
    XX(SIZE, "SIZE")                      \
    XX(DELETED_STORAGE, "DELETED-STORAGE") /* RFC 9208 4.1.4 */ \
    XX(HIGHESTMODSEQ, "HIGHESTMODSEQ")    \
    XX(APPENDLIMIT, "APPENDLIMIT")        /* number, or nil */ \
    XX(MAILBOXID, "MAILBOXID")            /* text: "(objectid)" */ \
    XX(OTHER, "")

typedef enum mr_imap_status_kind {
#define MR_XX(name, wire) MR_IMAP_STATUS_##name,
    MR_IMAP_STATUS_MAP(MR_XX)
#undef MR_XX
    MR_IMAP_STATUS__COUNT
} mr_imap_status_kind;

const char *mr_imap_status_kind_name(mr_imap_status_kind k);

typedef struct mr_imap_status_item {
    mr_imap_status_kind kind;
    mr_span name;
    const mr_imap_value *value; /* as sent */
    uint64_t number;
    int nil;                    /* APPENDLIMIT NIL */
    mr_span text;               /* MAILBOXID */
} mr_imap_status_item;

typedef struct mr_imap_status {
    mr_imap_mailbox mailbox;
    const mr_imap_status_item *items;
    size_t n;
} mr_imap_status;

/* SEARCH and SORT (RFC 9051 7.3.5, RFC 5256, RFC 7162 3.1.5). */
typedef struct mr_imap_search {
    const uint64_t *nums;
    size_t n;
    uint64_t modseq;
    int has_modseq;
} mr_imap_search;

/* ESEARCH (RFC 4731, RFC 9051 7.3.4). */
typedef struct mr_imap_esearch_item {
    mr_span name;               /* MIN, MAX, COUNT, ALL, MODSEQ, ... */
    const mr_imap_value *value;
    uint64_t number;            /* MIN MAX COUNT MODSEQ */
    mr_imap_seqset set;         /* ALL */
} mr_imap_esearch_item;

typedef struct mr_imap_esearch {
    const mr_imap_value *tag;   /* search correlator (TAG "a1"), NULL if absent */
    int uid;
    const mr_imap_esearch_item *items;
    size_t n;
} mr_imap_esearch;

/* VANISHED (RFC 7162 3.2.10). */
typedef struct mr_imap_vanished {
    int earlier;
    mr_imap_seqset uids;
} mr_imap_vanished;

/* NAMESPACE (RFC 2342 5, RFC 9051 7.3.2). */
typedef struct mr_imap_ns_ext {
    const mr_imap_value *name;
    const mr_imap_value *values; /* the list's strings */
    size_t n_values;
} mr_imap_ns_ext;

typedef struct mr_imap_ns {
    const mr_imap_value *prefix;
    int delimiter;              /* byte, or -1 for NIL */
    const mr_imap_ns_ext *exts;
    size_t n_exts;
} mr_imap_ns;

typedef struct mr_imap_ns_list {
    const mr_imap_ns *items;    /* nil == 1: NIL */
    size_t n;
    int nil;
} mr_imap_ns_list;

typedef struct mr_imap_namespace {
    mr_imap_ns_list personal, other, shared;
} mr_imap_namespace;

/* ID (RFC 2971 3.2): ("name" "value" ...) or NIL. */
typedef struct mr_imap_id {
    mr_imap_params fields;
} mr_imap_id;

/* QUOTA and QUOTAROOT (RFC 9208 5, RFC 2087). */
typedef struct mr_imap_quota_res {
    const mr_imap_value *name;  /* STORAGE, MESSAGE, ... */
    uint64_t usage, limit;
} mr_imap_quota_res;

typedef struct mr_imap_quota {
    const mr_imap_value *root;
    const mr_imap_quota_res *res;
    size_t n_res;
} mr_imap_quota;

typedef struct mr_imap_quotaroot {
    mr_imap_mailbox mailbox;
    const mr_imap_value *const *roots;
    size_t n_roots;
} mr_imap_quotaroot;

/* METADATA (RFC 5464 4.4): values (entry value ...) or a list of entries. */
typedef struct mr_imap_metadata {
    mr_imap_mailbox mailbox;
    int with_values;            /* 1: params holds entry/value pairs; 0: entries */
    mr_imap_params entries;     /* values: name = entry, value = nstring */
    const mr_imap_value *const *names; /* unsolicited: the entries */
    size_t n_names;
} mr_imap_metadata;

/* THREAD (RFC 5256 4): a forest.  A node with num 0 is a dummy parent. */
typedef struct mr_imap_thread_node {
    uint64_t num;
    const struct mr_imap_thread_node *children;
    size_t n_children;
} mr_imap_thread_node;

typedef struct mr_imap_thread {
    const mr_imap_thread_node *roots;
    size_t n;
} mr_imap_thread;

/* ACL, MYRIGHTS, LISTRIGHTS (RFC 4314 3.6-3.8). */
typedef struct mr_imap_acl {
    mr_imap_mailbox mailbox;
    mr_imap_params entries;       /* ACL: identifier / rights pairs */
    const mr_imap_value *identifier; /* LISTRIGHTS */
    const mr_imap_value *rights;  /* MYRIGHTS; LISTRIGHTS: required rights */
    const mr_imap_value *const *optional; /* LISTRIGHTS: optional rights */
    size_t n_optional;
} mr_imap_acl;

/* ------------------------------------------------------------ responses */

typedef enum mr_imap_kind {
    MR_IMAP_TAGGED = 0,   /* tag SP OK/NO/BAD resp-text */
    MR_IMAP_UNTAGGED,     /* "*" SP ... */
    MR_IMAP_CONTINUATION  /* "+" [SP] text-or-base64 */
} mr_imap_kind;

const char *mr_imap_kind_name(mr_imap_kind k); /* "tagged", "untagged", "continuation" */

/* XX(NAME, "WIRE", has a number before the keyword) */
#define MR_IMAP_TYPE_MAP(XX)                   \
    XX(OK, "OK", 0)                            \
    XX(NO, "NO", 0)                            \
    XX(BAD, "BAD", 0)                          \
    XX(PREAUTH, "PREAUTH", 0)                  \
    XX(BYE, "BYE", 0)                          \
    XX(CAPABILITY, "CAPABILITY", 0)            \
    XX(ENABLED, "ENABLED", 0)                  \
    XX(FLAGS, "FLAGS", 0)                      \
    XX(LIST, "LIST", 0)                        \
    XX(LSUB, "LSUB", 0)                        \
    XX(STATUS, "STATUS", 0)                    \
    XX(SEARCH, "SEARCH", 0)                    \
    XX(ESEARCH, "ESEARCH", 0)                  \
    XX(SORT, "SORT", 0)                        \
    XX(THREAD, "THREAD", 0)                    \
    XX(NAMESPACE, "NAMESPACE", 0)              \
    XX(ID, "ID", 0)                            \
    XX(QUOTA, "QUOTA", 0)                      \
    XX(QUOTAROOT, "QUOTAROOT", 0)              \
    XX(METADATA, "METADATA", 0)                \
    XX(ACL, "ACL", 0)                          \
    XX(MYRIGHTS, "MYRIGHTS", 0)                \
    XX(LISTRIGHTS, "LISTRIGHTS", 0)            \
    XX(VANISHED, "VANISHED", 0)                \
    XX(EXISTS, "EXISTS", 1)                    \
    XX(RECENT, "RECENT", 1)                    \
    XX(EXPUNGE, "EXPUNGE", 1)                  \
    XX(FETCH, "FETCH", 1)                      \
    XX(CONTINUE, "+", 0)   /* continuation request */ \
    XX(OTHER, "", 0)       /* unknown keyword: values only */

typedef enum mr_imap_type {
#define MR_XX(name, wire, num) MR_IMAP_TYPE_##name,
    MR_IMAP_TYPE_MAP(MR_XX)
#undef MR_XX
    MR_IMAP_TYPE__COUNT
} mr_imap_type;

const char *mr_imap_type_name(mr_imap_type t); /* the wire keyword; "+" ; "OTHER" */

typedef struct mr_imap_response {
    mr_imap_kind kind;
    mr_imap_type type;
    mr_span tag;                /* TAGGED */
    mr_span keyword;            /* as sent ("FETCH", "ok", "X-FOO"); CONTINUE: empty */
    uint64_t number;            /* "* 12 FETCH": 12 */
    int has_number;
    int greeting;               /* the first response of the stream */
    mr_span cmd;                /* TAGGED: the command name its tag was sent with
                                 * ("UID FETCH"), len 0 when the tag was not expected */

    /* Status responses (OK NO BAD PREAUTH BYE) and CONTINUE: resp-text. */
    int has_code;
    mr_imap_code code;
    mr_span text;               /* the text after the code (CONTINUE: everything after "+ ") */
    int has_sasl;               /* CONTINUE: text is base64; sasl is decoded */
    mr_span sasl;

    /* Data after the keyword, as a value tree (untagged data responses). */
    const mr_imap_value *values;
    size_t n_values;
    int n_literals;             /* literals in the response */
    int n_streamed;             /* of them, handed out as chunks */

    /* Typed data: which member is set depends on type; valid when typed is 1. */
    int typed;
    union {
        struct { const mr_span *items; size_t n; } atoms; /* CAPABILITY, ENABLED, FLAGS */
        mr_imap_list list;            /* LIST, LSUB */
        mr_imap_status status;        /* STATUS */
        mr_imap_search search;        /* SEARCH, SORT */
        mr_imap_esearch esearch;      /* ESEARCH */
        mr_imap_thread thread;        /* THREAD */
        mr_imap_namespace ns;         /* NAMESPACE */
        mr_imap_id id;                /* ID */
        mr_imap_quota quota;          /* QUOTA */
        mr_imap_quotaroot quotaroot;  /* QUOTAROOT */
        mr_imap_metadata metadata;    /* METADATA */
        mr_imap_acl acl;              /* ACL, MYRIGHTS, LISTRIGHTS */
        mr_imap_vanished vanished;    /* VANISHED */
        mr_imap_fetch fetch;          /* FETCH */
    } u;

    uint64_t offset, end;       /* stream byte range [offset, end) */
    const mr_diag *diags;       /* strict mode only */
    size_t n_diags;
    size_t diags_dropped;
} mr_imap_response;

/* Where a streamed literal's chunk belongs. */
typedef struct mr_imap_literal_info {
    uint32_t index;     /* 0-based index of the literal in its response */
    int binary;         /* ~{n} */
    uint64_t size;      /* the literal's declared size */
    uint64_t done;      /* bytes of it handed out before this chunk */
    mr_span context;    /* the text of the line that announced it, up to "{":
                         * "* 12 FETCH (UID 7 BODY[] " */
} mr_imap_literal_info;

typedef struct mr_imap_event {
    mr_event_type type;
    const mr_imap_response *response; /* RESPONSE; non-fatal ERROR of a framed response */
    mr_span chunk;                    /* BODY_CHUNK */
    mr_imap_literal_info literal;     /* BODY_CHUNK */
    mr_error error;                   /* ERROR */
} mr_imap_event;

typedef struct mr_imap_parser mr_imap_parser;

/* NULL when the allocator fails.  opt may be NULL (lenient, default limits). */
mr_imap_parser *mr_imap_new(const mr_options *opt);
void mr_imap_free(mr_imap_parser *p);
/* Back to the start of a stream: greeting next, no tags, UTF-8 names off. */
void mr_imap_reset(mr_imap_parser *p);

/*
 * Tell the parser about a command line the client sent ("a1 UID FETCH 1:*
 * (FLAGS)\r\n"; only the first line of a command with literals).  Its tag
 * and command name are remembered until the tagged response; AUTHENTICATE
 * makes continuations SASL challenges.  Returns 0, MR_E_TOO_MANY_PENDING,
 * MR_E_NO_MEMORY, or MR_E_BAD_FIELD for a line with no tag and command
 * (such as IDLE's "DONE" or a SASL response), which is ignored.
 */
int mr_imap_expect_line(mr_imap_parser *p, const uint8_t *line, size_t len);
/* Tags sent and not yet completed. */
size_t mr_imap_pending(const mr_imap_parser *p);
/* 1 while an AUTHENTICATE is under way (the client sends SASL lines, not commands). */
int mr_imap_in_sasl(const mr_imap_parser *p);
/* The stream starts after the greeting (a fragment of a session): the
 * first response is not taken as the greeting. */
void mr_imap_skip_greeting(mr_imap_parser *p);
/* Mailbox names are UTF-8 (RFC 6855 3): set by "* ENABLED UTF8=ACCEPT" or
 * "* ENABLED IMAP4rev2" (RFC 9051 6.3.1), or by the caller. */
void mr_imap_set_utf8(mr_imap_parser *p, int on);
int mr_imap_utf8(const mr_imap_parser *p);

/* As mr_pop3_next(). */
mr_event_type mr_imap_next(mr_imap_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                           mr_imap_event *ev);
/* End of stream: MR_EV_NEED_MORE between responses, else MR_E_UNEXPECTED_EOF. */
mr_event_type mr_imap_finish(mr_imap_parser *p, mr_imap_event *ev);
uint64_t mr_imap_offset(const mr_imap_parser *p);

/* ------------------------------------------------------------ printing */

/*
 * Print a response back in canonical wire form (single spaces, CRLF,
 * minimal quoting escapes, literals kept as literals, atoms and keywords
 * as sent).  Writes at most cap bytes to out and returns the full length
 * needed (like snprintf; out may be NULL when cap is 0).  A streamed
 * literal cannot be printed, nor an unknown response that did not read as
 * values and had literals (its text is its first line only), nor a
 * response code with a literal in its arguments (outside the grammar;
 * their text is kept to the end of the first line only): returns
 * SIZE_MAX.  Property (tested):
 * parsing the printed bytes gives the same response.
 */
size_t mr_imap_print(const mr_imap_response *r, uint8_t *out, size_t cap);

/* ------------------------------------------------------------ utilities */

/*
 * Decode a modified UTF-7 mailbox name (RFC 3501 5.1.3) to UTF-8.  Writes
 * at most cap bytes, returns the full length needed, or SIZE_MAX when in
 * is not valid modified UTF-7 (bad base64, non-canonical encoding of a
 * printable ASCII character, an unpaired surrogate, "&" not closed).
 */
size_t mr_imap_mutf7_decode(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/*
 * Does text (line end excluded) end in a literal announcement: "{n}",
 * "{n+}" (RFC 7888) or "~{n}" (RFC 3516)?  Returns 1 and the literal's
 * size and form, and in *start the index where the announcement begins
 * ("{" or "~"); 0 when it does not; -1 when n does not fit in 64 bits.
 * Whether such an ending really announces a literal also depends on where
 * it stands (not inside a quoted string, not in resp-text): the parser
 * decides that.  For client command lines too.
 */
int mr_imap_literal_marker(const uint8_t *t, size_t n, uint64_t *size, int *binary, int *nonsync,
                           size_t *start);

/* Parse a date-time ("17-Jul-1996 02:44:25 -0700", day may have a leading
 * space).  1 on success. */
int mr_imap_parse_time(mr_span s, mr_imap_time *out);

#ifdef __cplusplus
}
#endif
#endif /* MR_IMAP_H */
