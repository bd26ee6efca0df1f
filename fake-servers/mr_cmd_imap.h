/*
 * mr_cmd_imap.h - the fake IMAP server's reader of client commands: it
 * frames one command at a time out of the client's bytes (RFC 9051 2.2.1,
 * 4.3 literals, 9 "command"), and splits a command's arguments into a flat
 * array of tokens.  Dependency-free (libc only): it is compiled into the
 * fuzzing library too (fuzz/fuzz_cmd_imap.c).
 *
 * Framing.  A command is a first line "tag SP verb [SP args]", possibly
 * continued by literals: a line that ends in "{n}" (synchronizing, RFC
 * 9051 4.3), "{n+}" (non-synchronizing, RFC 7888 3) or "~{n}" / "~{n+}"
 * (literal8, RFC 3516 4.3, RFC 7888 6) is followed by n bytes and then by
 * more of the command, up to a line that ends in no literal.  Lines end in
 * CRLF; a bare LF is accepted and flagged (bare_lf).  The reader is
 * incremental: it keeps how far it has scanned, so feeding more bytes
 * never rescans what it has seen (a slowloris counter-measure); it never
 * reads past what it is given, and never consumes more than one unit.
 *
 * A quoted string cannot hold CR or LF (RFC 9051 9, QUOTED-CHAR), so a line
 * that ends in "{n}" always announces a literal; a "{n}" inside a quoted
 * string on a line that goes on is no literal.
 *
 * Bounds (mr_imapcmd_limits): a line between literals, one literal, the
 * whole command and the number of literals.  A command that passes one is
 * refused as soon as the bound is passed: the reader reports an error once
 * (reply = 1: the module answers "tag BAD ..." or "* BAD ..."), and then
 * drops the rest of that command as it arrives, without keeping it:
 * further errors with reply = 0 and code MR_IMAPCMD_E_SKIPPED.  A too
 * large synchronizing literal is refused before the continuation, so the
 * client never sends it (RFC 9051 4.3, 7.5); a too large non-synchronizing
 * one is skipped (RFC 7888 4, choice 1).
 */
#ifndef MR_CMD_IMAP_H
#define MR_CMD_IMAP_H

#include <stddef.h>
#include <stdint.h>

/* XX(NAME, "message") */
#define MR_IMAPCMD_ERROR_MAP(XX)                                                        \
    XX(OK, "no error")                                                                  \
    XX(LINE_TOO_LONG, "command line too long")                                          \
    XX(LITERAL_TOO_LARGE, "literal too large")                                          \
    XX(COMMAND_TOO_LARGE, "command too large")                                          \
    XX(TOO_MANY_LITERALS, "too many literals in one command")                           \
    XX(BAD_LITERAL, "malformed literal size")                                           \
    XX(BAD_TAG, "missing or invalid tag")                                               \
    XX(BAD_COMMAND, "missing or invalid command name")                                  \
    XX(EOF, "connection closed inside a command")                                       \
    XX(SKIPPED, "bytes of a refused command skipped")                                   \
    XX(SYNTAX, "syntax error in the arguments")                                         \
    XX(TOO_DEEP, "parentheses nested too deeply")                                       \
    XX(TOO_MANY_TOKENS, "too many arguments")                                           \
    XX(NO_MEMORY, "out of memory")

typedef enum mr_imapcmd_errcode {
#define MR_XX(name, msg) MR_IMAPCMD_E_##name,
    MR_IMAPCMD_ERROR_MAP(MR_XX)
#undef MR_XX
    MR_IMAPCMD_E__COUNT
} mr_imapcmd_errcode;

const char *mr_imapcmd_errname(mr_imapcmd_errcode c);   /* "LINE_TOO_LONG"; "UNKNOWN" */
const char *mr_imapcmd_errmsg(mr_imapcmd_errcode c);    /* the table's message */

typedef struct mr_imapcmd_error {
    mr_imapcmd_errcode code;
    size_t offset;        /* of the offending byte, from the start of the unit
                             (reader) or of the arguments (tokenizer) */
    const char *message;  /* static text saying what exactly was wrong */
} mr_imapcmd_error;

/* Zero fields take the defaults below. */
typedef struct mr_imapcmd_limits {
    size_t max_line;      /* one line between literals, line end included */
    uint64_t max_literal; /* bytes of one literal */
    size_t max_command;   /* the whole command, literals and line ends included */
    size_t max_literals;  /* literals in one command */
} mr_imapcmd_limits;

#define MR_IMAPCMD_DEFAULT_MAX_LINE ((size_t)8192)
#define MR_IMAPCMD_DEFAULT_MAX_LITERAL ((uint64_t)64 << 20)
#define MR_IMAPCMD_DEFAULT_MAX_COMMAND ((size_t)64 << 20)
#define MR_IMAPCMD_DEFAULT_MAX_LITERALS ((size_t)1000)
#define MR_IMAPCMD_MAX_TAG 128   /* longer tags are refused (BAD_TAG) */
#define MR_IMAPCMD_MAX_NAME 31   /* "UID EXPUNGE" and the like fit */

/* What mr_imapcmd_next() found. */
typedef enum mr_imapcmd_result {
    MR_IMAPCMD_MORE = 0,  /* not a whole command yet; nothing consumed */
    MR_IMAPCMD_CONTINUE,  /* a synchronizing literal was announced: send a
                             continuation ("+ ..."), or refuse the command
                             with mr_imapcmd_refuse(); then call again (the
                             literal may already be there); nothing consumed.
                             tag and name are set. */
    MR_IMAPCMD_COMMAND,   /* out is a whole command */
    MR_IMAPCMD_ERROR      /* out->err says what; out->consumed bytes are
                             dropped; out->reply says whether to answer */
} mr_imapcmd_result;

/* One framed unit.  tag and name are NUL-terminated copies; the pointers
 * point into the caller's buffer and are valid while it is. */
typedef struct mr_imapcmd {
    char tag[MR_IMAPCMD_MAX_TAG + 1];   /* "" when none (DONE, SASL lines, bad tag) */
    char name[MR_IMAPCMD_MAX_NAME + 1]; /* upper-case verb, "UID FETCH", "DONE", "<sasl>" */
    const uint8_t *line;  /* the whole command, literals included, without the final line end */
    size_t line_len;
    const uint8_t *args;  /* after the verb and its space (may be empty) */
    size_t args_len;
    size_t consumed;      /* bytes this unit used, final line end included */
    size_t nliterals;
    int bare_lf;          /* some line ended in LF without CR */
    /* ERROR only */
    mr_imapcmd_error err;
    int reply;            /* 1: answer it (tag BAD when tag[0], else "* BAD") */
} mr_imapcmd;

typedef struct mr_imapcmd_reader {
    mr_imapcmd_limits lim;  /* resolved */
    int sasl;               /* lines are SASL responses (mr_imapcmd_set_sasl) */
    /* Scan state of the current unit; offsets count from its first byte. */
    int in_literal;         /* reading literal bytes */
    int skipping;           /* the command was refused: drop it as it comes */
    int sync;               /* the literal being read is synchronizing */
    int cont_done;          /* its continuation was asked for */
    size_t pos;             /* bytes scanned (never rescanned) */
    size_t line_start;      /* where the current line starts */
    uint64_t lit_left;      /* literal bytes still to come */
    size_t first_len;       /* the first line's text, once it ended */
    /* skipping: a literal announcement being recognised at the end of a
     * skipped line, byte by byte (MS_* in mr_cmd_imap.c) */
    int ms, ms_ns, ms_over, ms_cr;
    uint64_t ms_val;
    size_t nliterals;
    int bare_lf;
} mr_imapcmd_reader;

/* lim may be NULL (defaults). */
void mr_imapcmd_init(mr_imapcmd_reader *r, const mr_imapcmd_limits *lim);
/* Forget the unit under way (after STARTTLS the engine drops the input). */
void mr_imapcmd_reset(mr_imapcmd_reader *r);
/* While on, every line is one unit named "<sasl>" with no tag and the
 * whole line as args; literals are not looked for (RFC 9051 6.2.2). */
void mr_imapcmd_set_sasl(mr_imapcmd_reader *r, int on);

/*
 * Frame the next unit from p[0..n), the bytes not consumed so far (the
 * same bytes as the last call, maybe with more after them; p may move).
 * eof: no more bytes will come (a partial unit is then an EOF error that
 * consumes it).  Returns an mr_imapcmd_result and fills *out.  Never
 * consumes more than n bytes; consumes nothing with MORE or CONTINUE.
 */
mr_imapcmd_result mr_imapcmd_next(mr_imapcmd_reader *r, const uint8_t *p, size_t n, int eof,
                                  mr_imapcmd *out);

/*
 * Refuse the command whose synchronizing literal was just announced
 * (after MR_IMAPCMD_CONTINUE): the client will not send the literal, so
 * the unit ends with that line.  p: the bytes of the last call.  Sets
 * out->line, out->consumed (the module answers
 * and returns an error unit of that many bytes) and resets the reader.
 */
void mr_imapcmd_refuse(mr_imapcmd_reader *r, const uint8_t *p, mr_imapcmd *out);

/* ------------------------------------------------------------ tokens */

typedef enum mr_imaptok_type {
    MR_IMAPTOK_ATOM = 0, /* atom, number, flag (\Seen), sequence set, list
                            pattern (INBOX/%), fetch item with its section
                            and partial (BODY.PEEK[HEADER.FIELDS (A B)]<0.9>) */
    MR_IMAPTOK_NIL,      /* the atom NIL (any case) */
    MR_IMAPTOK_QUOTED,   /* "..." */
    MR_IMAPTOK_LITERAL,  /* {n} / {n+} / ~{n} and its bytes */
    MR_IMAPTOK_OPEN,     /* ( */
    MR_IMAPTOK_CLOSE     /* ) */
} mr_imaptok_type;

typedef struct mr_imaptok {
    uint8_t type;        /* mr_imaptok_type */
    uint8_t literal8;    /* LITERAL sent as ~{n} */
    uint8_t nonsync;     /* LITERAL sent as {n+} */
    uint8_t escaped;     /* QUOTED with backslash escapes (str is a copy) */
    uint32_t depth;      /* lists around the token (OPEN: around the list) */
    const uint8_t *str;  /* the value: atom text, unescaped string, literal bytes */
    size_t len;
    size_t offset;       /* of the token's first byte in args */
    size_t end;          /* past its last byte in args */
    size_t match;        /* OPEN: index of its CLOSE; CLOSE: of its OPEN */
} mr_imaptok;

typedef struct mr_imapcmd_tokens {
    mr_imaptok *tok;     /* tok[0..n) */
    size_t n, cap;
    uint8_t *arena;      /* unescaped quoted strings */
    size_t arena_len, arena_cap;
    size_t max_tokens;   /* default 100,000 */
    size_t max_depth;    /* default 32 */
    mr_imapcmd_error err;
} mr_imapcmd_tokens;

void mr_imapcmd_tokens_init(mr_imapcmd_tokens *t, size_t max_tokens, size_t max_depth);
void mr_imapcmd_tokens_cleanup(mr_imapcmd_tokens *t);

/*
 * Split args[0..len) (a command's args, as framed) into tokens separated
 * by spaces (a run of spaces is taken as one), parentheses matched.  A "["
 * in an atom opens a section that runs to its "]" and may hold spaces,
 * parentheses and quoted strings; a "<...>" may follow it.  Returns 0, or
 * -1 with t->err set (SYNTAX with a message and offset, TOO_DEEP,
 * TOO_MANY_TOKENS, NO_MEMORY).  Tokens point into args and t's arena:
 * valid until the next call or cleanup.
 */
int mr_imapcmd_tokenize(mr_imapcmd_tokens *t, const uint8_t *args, size_t len);

/* 1 when tok's value equals s, ASCII case-insensitively (atoms). */
int mr_imaptok_eq(const mr_imaptok *tok, const char *s);
/* 1 for an astring (ATOM, NIL, QUOTED, LITERAL). */
int mr_imaptok_is_string(const mr_imaptok *tok);
/* A number (RFC 9051 9 number64: digits only, no overflow): 1 and *out. */
int mr_imaptok_number(const mr_imaptok *tok, uint64_t *out);

/* ------------------------------------------------------------ sequence sets */

#define MR_IMAPCMD_STAR UINT64_MAX /* "*" */

typedef struct mr_imapcmd_range {
    uint64_t lo, hi;     /* as sent: lo may be > hi; "*" is MR_IMAPCMD_STAR */
} mr_imapcmd_range;

/*
 * Parse a sequence set (RFC 9051 9 sequence-set: "1:*", "2,4:7,9"; "$" is
 * the search result variable of RFC 5182 and gives *is_dollar = 1 and no
 * ranges).  Writes up to cap ranges, returns the count of ranges in the
 * set (which may be larger than cap), or -1 when it is not a sequence set
 * (0 is not a sequence number).
 */
long mr_imapcmd_seqset(const uint8_t *p, size_t n, mr_imapcmd_range *out, size_t cap,
                       int *is_dollar);

#endif /* MR_CMD_IMAP_H */
