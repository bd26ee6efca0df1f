/*
 * mr_mailbox.c - the fake servers' in-memory mailbox (mr_mailbox.h):
 * folders of messages with UIDs, flags, keywords, dates and POP3
 * unique-ids, loaded from a Maildir or a directory of .eml files.
 *
 * Where the rules come from:
 *   - folder names, INBOX without regard to case, CREATE of superiors,
 *     DELETE of a folder with inferiors, RENAME of INBOX: RFC 9051 5.1,
 *     6.3.4, 6.3.5, 6.3.6;
 *   - system flags and keywords (case-insensitive): RFC 9051 2.3.2;
 *     \Recent is IMAP4rev1's (RFC 3501 2.3.2), set here on messages found
 *     in a Maildir's new/, on every message of an .eml directory (no client
 *     has seen them), and on APPEND and COPY (RFC 3501 6.3.11, 6.4.7);
 *   - UIDVALIDITY and UIDs: RFC 9051 2.3.1.1.  Loaded folders all have
 *     UIDVALIDITY 1 and UIDs 1..n in file-name order, so that a test sees
 *     the same numbers on every run; a folder made later (CREATE, RENAME)
 *     takes a new value from a process-wide counter, so that a folder
 *     deleted and made again never shows the same UIDVALIDITY twice;
 *   - unique-ids: RFC 1939 7 (unique-id is 1 to 70 characters 0x21-0x7E,
 *     stable across sessions): 32 hex digits, FNV-1a 64 of the bytes, then
 *     of where the message came from (its file name, or folder, UIDVALIDITY
 *     and UID for APPEND and COPY), so that copies differ;
 *   - Maildir: cr.yp.to/proto/maildir.html (info ":2," followed by the
 *     flags P R S T D F); Maildir++ folders are ".Name" directories, "."
 *     standing for the hierarchy delimiter ("/" here).
 *
 * Line ends: every LF that is not after a CR becomes CRLF.  A bare CR is
 * kept as it is: it is a defect of the message, and a test server should
 * serve defects unchanged rather than invent line breaks.
 *
 * No GMime here (mr_mime.c has it); the JSON writer is by hand.
 */
#include "mr_mailbox.h"
#include "mr_mime.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define MR_MB_MAX_MESSAGES 100000u
#define MR_MB_MAX_MSG_SIZE (64u * 1024 * 1024)
#define MR_MB_MAX_FOLDERS 10000u
#define MR_MB_MAX_DEPTH 32          /* directory nesting of an .eml tree */
#define MR_MB_MAX_NAME 1024         /* a folder name, in bytes */

static atomic_uint next_uidvalidity = 1000;

/* ------------------------------------------------------------ memory */

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("mailrig: out of memory\n", stderr);
        abort();
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fputs("mailrig: out of memory\n", stderr);
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = xmalloc(n);
    memcpy(d, s, n);
    return d;
}

/* ------------------------------------------------------------ hashing */

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FNV_BASIS 0xcbf29ce484222325ull

static void make_uidl(char out[72], const uint8_t *data, size_t len, const char *who)
{
    uint64_t a = fnv1a(FNV_BASIS, data, len);
    uint64_t b = fnv1a(FNV_BASIS, who, strlen(who));
    snprintf(out, 72, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* ------------------------------------------------------------ messages */

static mr_msgdata *msgdata_new(uint8_t *data, size_t len, const char *source)
{
    mr_msgdata *d = xmalloc(sizeof *d);
    d->refs = 1;
    d->data = data;
    d->len = len;
    d->source = source ? xstrdup(source) : NULL;
    d->mime = NULL;
    return d;
}

static void msgdata_unref(mr_msgdata *d)
{
    if (!d || --d->refs > 0)
        return;
    mr_mime_release(d);
    free(d->data);
    free(d->source);
    free(d);
}

static void msg_free(mr_msg *m)
{
    if (!m)
        return;
    msgdata_unref(m->d);
    for (size_t i = 0; i < m->nkeywords; i++)
        free(m->keywords[i]);
    free(m->keywords);
    free(m);
}

static mr_msg *msg_clone(const mr_msg *m)
{
    mr_msg *c = xmalloc(sizeof *c);
    *c = *m;
    c->d->refs++;
    c->keywords = NULL;
    c->nkeywords = 0;
    if (m->nkeywords) {
        c->keywords = xmalloc(m->nkeywords * sizeof *c->keywords);
        for (size_t i = 0; i < m->nkeywords; i++)
            c->keywords[i] = xstrdup(m->keywords[i]);
        c->nkeywords = m->nkeywords;
    }
    return c;
}

/* ------------------------------------------------------------ folders */

static mr_folder *folder_new(const char *name, uint32_t uidvalidity)
{
    mr_folder *f = xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    f->name = xstrdup(name);
    f->uidvalidity = uidvalidity;
    f->uidnext = 1;
    f->subscribed = 1;
    return f;
}

static void folder_free(mr_folder *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++)
        msg_free(f->msgs[i]);
    free(f->msgs);
    free(f->name);
    free(f);
}

static void folder_push(mr_folder *f, mr_msg *m)
{
    if (f->count == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->msgs = xrealloc(f->msgs, f->cap * sizeof *f->msgs);
    }
    f->msgs[f->count++] = m;
}

static int is_inbox_prefix(const char *s, size_t *plen)
{
    if (strncasecmp(s, "INBOX", 5) == 0 && (s[5] == 0 || s[5] == '/')) {
        *plen = 5;
        return 1;
    }
    return 0;
}

/* Folder names are equal: "INBOX" (and an "INBOX/" prefix) without
 * regard to case (RFC 9051 5.1), the rest exactly. */
static int name_eq(const char *a, const char *b)
{
    size_t la, lb;
    if (is_inbox_prefix(a, &la) && is_inbox_prefix(b, &lb))
        return strcmp(a + la, b + lb) == 0;
    return strcmp(a, b) == 0;
}

/* Is name acceptable: not empty, no leading or trailing "/", no "//", no
 * control characters or DEL, at most MR_MB_MAX_NAME bytes. */
static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MR_MB_MAX_NAME || name[0] == '/' || name[n - 1] == '/' || strstr(name, "//"))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* The stored spelling: "INBOX" prefix in upper case. */
static char *name_canon(const char *name)
{
    char *s = xstrdup(name);
    size_t l;
    if (is_inbox_prefix(s, &l))
        memcpy(s, "INBOX", 5);
    return s;
}

static int is_inbox(const char *name)
{
    return strcasecmp(name, "INBOX") == 0;
}

/* Insert f keeping INBOX first and the others in byte order of name. */
static void mailbox_insert(mr_mailbox *mb, mr_folder *f)
{
    if (mb->nfolders == mb->cap) {
        mb->cap = mb->cap ? mb->cap * 2 : 8;
        mb->folders = xrealloc(mb->folders, mb->cap * sizeof *mb->folders);
    }
    size_t at = mb->nfolders;
    if (is_inbox(f->name))
        at = 0;
    else
        for (size_t i = 0; i < mb->nfolders; i++)
            if (!is_inbox(mb->folders[i]->name) && strcmp(f->name, mb->folders[i]->name) < 0) {
                at = i;
                break;
            }
    memmove(mb->folders + at + 1, mb->folders + at, (mb->nfolders - at) * sizeof *mb->folders);
    mb->folders[at] = f;
    mb->nfolders++;
}

static int cmp_folder(const void *a, const void *b)
{
    const mr_folder *fa = *(mr_folder *const *)a, *fb = *(mr_folder *const *)b;
    if (is_inbox(fa->name))
        return -1;
    if (is_inbox(fb->name))
        return 1;
    return strcmp(fa->name, fb->name);
}

static void mailbox_sort(mr_mailbox *mb)
{
    qsort(mb->folders, mb->nfolders, sizeof *mb->folders, cmp_folder);
}

static size_t find_index(const mr_mailbox *mb, const char *name)
{
    for (size_t i = 0; i < mb->nfolders; i++)
        if (name_eq(mb->folders[i]->name, name))
            return i;
    return SIZE_MAX;
}

mr_mailbox *mr_mailbox_new(void)
{
    mr_mailbox *mb = xmalloc(sizeof *mb);
    memset(mb, 0, sizeof *mb);
    mailbox_insert(mb, folder_new("INBOX", 1));
    return mb;
}

void mr_mailbox_free(mr_mailbox *mb)
{
    if (!mb)
        return;
    for (size_t i = 0; i < mb->nfolders; i++)
        folder_free(mb->folders[i]);
    free(mb->folders);
    free(mb->source);
    free(mb);
}

mr_mailbox *mr_mailbox_clone(const mr_mailbox *mb)
{
    if (!mb)
        return NULL;
    mr_mailbox *c = xmalloc(sizeof *c);
    c->nfolders = c->cap = mb->nfolders;
    c->folders = xmalloc((mb->nfolders ? mb->nfolders : 1) * sizeof *c->folders);
    c->source = mb->source ? xstrdup(mb->source) : NULL;
    for (size_t i = 0; i < mb->nfolders; i++) {
        const mr_folder *f = mb->folders[i];
        mr_folder *g = xmalloc(sizeof *g);
        *g = *f;
        g->name = xstrdup(f->name);
        g->msgs = xmalloc((f->count ? f->count : 1) * sizeof *g->msgs);
        g->cap = f->count ? f->count : 1;
        for (size_t j = 0; j < f->count; j++)
            g->msgs[j] = msg_clone(f->msgs[j]);
        c->folders[i] = g;
    }
    return c;
}

mr_folder *mr_mailbox_find(const mr_mailbox *mb, const char *name)
{
    if (!mb || !name)
        return NULL;
    size_t i = find_index(mb, name);
    return i == SIZE_MAX ? NULL : mb->folders[i];
}

/* Make name's missing superiors: selectable folders when made by CREATE
 * (RFC 9051 6.3.4), \Noselect placeholders when found while loading. */
static void make_parents(mr_mailbox *mb, const char *name, int noselect, uint32_t uidvalidity)
{
    char *tmp = xstrdup(name);
    for (char *p = strchr(tmp, '/'); p; p = strchr(p + 1, '/')) {
        *p = 0;
        if (!mr_mailbox_find(mb, tmp)) {
            mr_folder *f = folder_new(tmp, uidvalidity ? uidvalidity : atomic_fetch_add(&next_uidvalidity, 1));
            f->noselect = noselect;
            f->subscribed = !noselect;
            mailbox_insert(mb, f);
        }
        *p = '/';
    }
    free(tmp);
}

mr_folder *mr_mailbox_create(mr_mailbox *mb, const char *name)
{
    if (!mb || !name || !name_ok(name) || mb->nfolders >= MR_MB_MAX_FOLDERS)
        return NULL;
    mr_folder *old = mr_mailbox_find(mb, name);
    if (old) {
        /* A \Noselect placeholder becomes a real folder; anything else exists. */
        if (!old->noselect)
            return NULL;
        old->noselect = 0;
        old->uidvalidity = atomic_fetch_add(&next_uidvalidity, 1);
        return old;
    }
    char *canon = name_canon(name);
    make_parents(mb, canon, 0, 0);
    mr_folder *f = folder_new(canon, atomic_fetch_add(&next_uidvalidity, 1));
    free(canon);
    mailbox_insert(mb, f);
    return f;
}

static int has_children(const mr_mailbox *mb, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < mb->nfolders; i++) {
        const char *o = mb->folders[i]->name;
        if (strncmp(o, name, n) == 0 && o[n] == '/')
            return 1;
    }
    return 0;
}

int mr_mailbox_delete(mr_mailbox *mb, const char *name)
{
    if (!mb || !name || is_inbox(name))
        return -1;
    size_t i = find_index(mb, name);
    if (i == SIZE_MAX)
        return -1;
    mr_folder *f = mb->folders[i];
    if (has_children(mb, f->name)) {
        /* RFC 9051 6.3.4: with inferiors, the messages go and the name
         * stays as \Noselect; a \Noselect name with inferiors is an error. */
        if (f->noselect)
            return -1;
        for (size_t j = 0; j < f->count; j++)
            msg_free(f->msgs[j]);
        f->count = 0;
        f->noselect = 1;
        return 0;
    }
    folder_free(f);
    memmove(mb->folders + i, mb->folders + i + 1, (mb->nfolders - i - 1) * sizeof *mb->folders);
    mb->nfolders--;
    return 0;
}

int mr_mailbox_rename(mr_mailbox *mb, const char *from, const char *to)
{
    if (!mb || !from || !to || !name_ok(to) || mb->nfolders >= MR_MB_MAX_FOLDERS)
        return -1;
    mr_folder *src = mr_mailbox_find(mb, from);
    if (!src || mr_mailbox_find(mb, to))
        return -1;
    if (is_inbox(from)) {
        /* RFC 9051 6.3.6: INBOX's messages move to the new name; INBOX
         * stays, empty; its inferiors do not move. */
        mr_folder *dst = mr_mailbox_create(mb, to);
        if (!dst)
            return -1;
        for (size_t i = 0; i < src->count; i++) {
            mr_msg *m = src->msgs[i];
            m->uid = dst->uidnext++;
            folder_push(dst, m);
        }
        src->count = 0;
        return 0;
    }
    char *canon_from = xstrdup(src->name);
    char *canon_to = name_canon(to);
    size_t nf = strlen(canon_from);
    /* Not into itself or one of its inferiors. */
    if (strncmp(canon_to, canon_from, nf) == 0 && (canon_to[nf] == '/' || canon_to[nf] == 0)) {
        free(canon_from);
        free(canon_to);
        return -1;
    }
    make_parents(mb, canon_to, 0, 0);
    for (size_t i = 0; i < mb->nfolders; i++) {
        mr_folder *f = mb->folders[i];
        if (strncmp(f->name, canon_from, nf) != 0 || (f->name[nf] != 0 && f->name[nf] != '/'))
            continue;
        size_t nt = strlen(canon_to), rest = strlen(f->name + nf);
        char *nn = xmalloc(nt + rest + 1);
        memcpy(nn, canon_to, nt);
        memcpy(nn + nt, f->name + nf, rest + 1);
        free(f->name);
        f->name = nn;
        /* The name now holds other UIDs than before (RFC 9051 2.3.1.1). */
        f->uidvalidity = atomic_fetch_add(&next_uidvalidity, 1);
    }
    free(canon_from);
    free(canon_to);
    mailbox_sort(mb);
    return 0;
}

/* ------------------------------------------------------------ messages in folders */

mr_msg *mr_folder_append(mr_folder *f, const uint8_t *data, size_t len, unsigned flags, time_t date)
{
    uint8_t *copy = xmalloc(len);
    if (len)
        memcpy(copy, data, len);
    mr_msg *m = xmalloc(sizeof *m);
    memset(m, 0, sizeof *m);
    m->d = msgdata_new(copy, len, NULL);
    m->uid = f->uidnext++;
    m->flags = flags | MR_F_RECENT;
    m->internal_date = date;
    char who[MR_MB_MAX_NAME + 64];
    snprintf(who, sizeof who, "%s/%lu/%lu", f->name, (unsigned long)f->uidvalidity, (unsigned long)m->uid);
    make_uidl(m->uidl, copy, len, who);
    folder_push(f, m);
    return m;
}

mr_msg *mr_folder_copy_in(mr_folder *f, const mr_msg *msg)
{
    mr_msg *m = msg_clone(msg);
    m->uid = f->uidnext++;
    m->flags |= MR_F_RECENT;
    m->pop3_deleted = 0;
    char who[MR_MB_MAX_NAME + 64];
    snprintf(who, sizeof who, "%s/%lu/%lu", f->name, (unsigned long)f->uidvalidity, (unsigned long)m->uid);
    make_uidl(m->uidl, m->d->data, m->d->len, who);
    folder_push(f, m);
    return m;
}

void mr_folder_remove(mr_folder *f, size_t i)
{
    if (!f || i >= f->count)
        return;
    msg_free(f->msgs[i]);
    memmove(f->msgs + i, f->msgs + i + 1, (f->count - i - 1) * sizeof *f->msgs);
    f->count--;
}

int mr_msg_has_keyword(const mr_msg *m, const char *kw)
{
    for (size_t i = 0; i < m->nkeywords; i++)
        if (strcasecmp(m->keywords[i], kw) == 0)
            return 1;
    return 0;
}

void mr_msg_add_keyword(mr_msg *m, const char *kw)
{
    if (!kw || !*kw || mr_msg_has_keyword(m, kw))
        return;
    m->keywords = xrealloc(m->keywords, (m->nkeywords + 1) * sizeof *m->keywords);
    m->keywords[m->nkeywords++] = xstrdup(kw);
}

void mr_msg_remove_keyword(mr_msg *m, const char *kw)
{
    for (size_t i = 0; i < m->nkeywords; i++)
        if (strcasecmp(m->keywords[i], kw) == 0) {
            free(m->keywords[i]);
            memmove(m->keywords + i, m->keywords + i + 1, (m->nkeywords - i - 1) * sizeof *m->keywords);
            m->nkeywords--;
            return;
        }
}

/* ------------------------------------------------------------ loading */

typedef struct loader {
    mr_mailbox *mb;
    size_t nmsgs;
    char *err;
    size_t errlen;
} loader;

static int fail(loader *ld, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(loader *ld, const char *path, const char *fmt, ...)
{
    if (ld->err && ld->errlen) {
        int n = snprintf(ld->err, ld->errlen, "%s: ", path);
        if (n >= 0 && (size_t)n < ld->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = xmalloc(la + lb + 2);
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Read a file, LF -> CRLF, bounded. */
static int read_message(loader *ld, const char *path, uint8_t **out, size_t *outlen, time_t *mtime)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return fail(ld, path, "%s", strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0) {
        int e = errno;
        fclose(fp);
        return fail(ld, path, "%s", strerror(e));
    }
    if ((unsigned long long)st.st_size > MR_MB_MAX_MSG_SIZE) {
        fclose(fp);
        return fail(ld, path, "message larger than %u bytes", MR_MB_MAX_MSG_SIZE);
    }
    size_t n = (size_t)st.st_size;
    uint8_t *raw = xmalloc(n + 1);
    size_t got = fread(raw, 1, n + 1, fp);
    int rerr = ferror(fp);
    fclose(fp);
    if (rerr) {
        free(raw);
        return fail(ld, path, "read error");
    }
    if (got > n) { /* grew while we read it */
        free(raw);
        return fail(ld, path, "file changed while being read");
    }
    size_t extra = 0;
    for (size_t i = 0; i < got; i++)
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
            extra++;
    if (got + extra > MR_MB_MAX_MSG_SIZE) {
        free(raw);
        return fail(ld, path, "message larger than %u bytes", MR_MB_MAX_MSG_SIZE);
    }
    uint8_t *d = xmalloc(got + extra);
    size_t j = 0;
    for (size_t i = 0; i < got; i++) {
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
            d[j++] = '\r';
        d[j++] = raw[i];
    }
    free(raw);
    *out = d;
    *outlen = j;
    *mtime = st.st_mtime;
    return 0;
}

/* Maildir info flags after ":2," (cr.yp.to/proto/maildir.html). */
static unsigned maildir_flags(const char *fname)
{
    const char *info = strstr(fname, ":2,");
    unsigned fl = 0;
    if (!info)
        return 0;
    for (const char *p = info + 3; *p; p++)
        switch (*p) {
        case 'S': fl |= MR_F_SEEN; break;
        case 'R': fl |= MR_F_ANSWERED; break;
        case 'F': fl |= MR_F_FLAGGED; break;
        case 'T': fl |= MR_F_DELETED; break;
        case 'D': fl |= MR_F_DRAFT; break;
        default: break; /* P (passed) and lower-case keyword letters: ignored */
        }
    return fl;
}

typedef struct entry {
    char *name;   /* file name, sort key */
    char *path;
    unsigned flags;
} entry;

typedef struct entries {
    entry *v;
    size_t n, cap;
} entries;

static void entries_add(entries *e, const char *dir, const char *name, unsigned flags)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 32;
        e->v = xrealloc(e->v, e->cap * sizeof *e->v);
    }
    e->v[e->n].name = xstrdup(name);
    e->v[e->n].path = path_join(dir, name);
    e->v[e->n].flags = flags;
    e->n++;
}

static void entries_free(entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->v[i].name);
        free(e->v[i].path);
    }
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir (no dot files), sorted.  want: 1 regular files, 2
 * directories, 3 both; dotdirs: directories starting with "." only. */
static int list_dir(loader *ld, const char *dir, int want, int dotdirs, const char *suffix, char ***out, size_t *n)
{
    DIR *dp = opendir(dir);
    if (!dp)
        return fail(ld, dir, "%s", strerror(errno));
    char **v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        const char *nm = de->d_name;
        if (!strcmp(nm, ".") || !strcmp(nm, ".."))
            continue;
        if (!dotdirs && nm[0] == '.')
            continue;
        if (dotdirs && nm[0] != '.')
            continue;
        char *p = path_join(dir, nm);
        struct stat st;
        int ok = stat(p, &st) == 0 &&
                 (((want & 1) && S_ISREG(st.st_mode)) || ((want & 2) && S_ISDIR(st.st_mode)));
        free(p);
        if (!ok)
            continue;
        if (suffix) {
            size_t ln = strlen(nm), ls = strlen(suffix);
            if (ln < ls || strcmp(nm + ln - ls, suffix) != 0)
                continue;
        }
        if (cnt == cap) {
            cap = cap ? cap * 2 : 32;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[cnt++] = xstrdup(nm);
    }
    closedir(dp);
    if (cnt)
        qsort(v, cnt, sizeof *v, cmp_str);
    *out = v;
    *n = cnt;
    return 0;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Load the sorted entries into folder f. */
static int load_entries(loader *ld, mr_folder *f, entries *e)
{
    if (e->n)
        qsort(e->v, e->n, sizeof *e->v, cmp_entry);
    for (size_t i = 0; i < e->n; i++) {
        if (ld->nmsgs >= MR_MB_MAX_MESSAGES)
            return fail(ld, ld->mb->source, "more than %u messages", MR_MB_MAX_MESSAGES);
        uint8_t *data = NULL;
        size_t len = 0;
        time_t mtime = 0;
        if (read_message(ld, e->v[i].path, &data, &len, &mtime) != 0)
            return -1;
        mr_msg *m = xmalloc(sizeof *m);
        memset(m, 0, sizeof *m);
        m->d = msgdata_new(data, len, e->v[i].path);
        m->uid = f->uidnext++;
        m->flags = e->v[i].flags;
        m->internal_date = mtime;
        make_uidl(m->uidl, data, len, e->v[i].name);
        folder_push(f, m);
        ld->nmsgs++;
    }
    return 0;
}

/* A folder found while loading: made (with \Noselect parents) or, when a
 * placeholder exists, made selectable. */
static mr_folder *load_folder(loader *ld, const char *name, const char *where)
{
    if (!name_ok(name)) {
        fail(ld, where, "bad folder name \"%s\"", name);
        return NULL;
    }
    if (ld->mb->nfolders >= MR_MB_MAX_FOLDERS) {
        fail(ld, where, "more than %u folders", MR_MB_MAX_FOLDERS);
        return NULL;
    }
    mr_folder *f = mr_mailbox_find(ld->mb, name);
    if (f) {
        if (!f->noselect) {
            fail(ld, where, "folder \"%s\" appears twice", name);
            return NULL;
        }
        f->noselect = 0;
        f->subscribed = 1;
        return f;
    }
    make_parents(ld->mb, name, 1, 1);
    f = folder_new(name, 1);
    mailbox_insert(ld->mb, f);
    return f;
}

/* One Maildir (cur/ and new/) into f. */
static int load_maildir_folder(loader *ld, mr_folder *f, const char *dir)
{
    entries e = {0};
    static const char *const subs[] = {"cur", "new"};
    for (int k = 0; k < 2; k++) {
        char *sub = path_join(dir, subs[k]);
        if (!is_dir(sub)) {
            free(sub);
            continue;
        }
        char **names;
        size_t n;
        if (list_dir(ld, sub, 1, 0, NULL, &names, &n) != 0) {
            free(sub);
            entries_free(&e);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            entries_add(&e, sub, names[i], k == 0 ? maildir_flags(names[i]) : maildir_flags(names[i]) | MR_F_RECENT);
        free_names(names, n);
        free(sub);
    }
    int rc = load_entries(ld, f, &e);
    entries_free(&e);
    return rc;
}

static int load_maildir(loader *ld, const char *path)
{
    if (load_maildir_folder(ld, ld->mb->folders[0], path) != 0)
        return -1;
    char **names;
    size_t n;
    if (list_dir(ld, path, 2, 1, NULL, &names, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* Maildir++: ".Archive.2024" is Archive/2024. */
        char *name = xstrdup(names[i] + 1);
        for (char *p = name; *p; p++)
            if (*p == '.')
                *p = '/';
        char *dir = path_join(path, names[i]);
        if (is_inbox(name) || strncasecmp(name, "INBOX/", 6) == 0) {
            rc = fail(ld, dir, "a Maildir++ folder may not be named INBOX");
        } else {
            mr_folder *f = load_folder(ld, name, dir);
            rc = f ? load_maildir_folder(ld, f, dir) : -1;
        }
        free(dir);
        free(name);
    }
    free_names(names, n);
    return rc;
}

/* A directory of .eml files; subdirectories are folders (prefix "" for
 * the top, which is INBOX). */
static int load_eml_dir(loader *ld, const char *dir, const char *prefix, int depth)
{
    if (depth > MR_MB_MAX_DEPTH)
        return fail(ld, dir, "folders nested deeper than %d", MR_MB_MAX_DEPTH);
    mr_folder *f = ld->mb->folders[0];
    if (*prefix) {
        if (is_inbox(prefix) || strncasecmp(prefix, "INBOX/", 6) == 0)
            return fail(ld, dir, "a subdirectory may not be named INBOX");
        f = load_folder(ld, prefix, dir);
        if (!f)
            return -1;
    }
    char **names;
    size_t n;
    if (list_dir(ld, dir, 1, 0, ".eml", &names, &n) != 0)
        return -1;
    entries e = {0};
    for (size_t i = 0; i < n; i++)
        entries_add(&e, dir, names[i], MR_F_RECENT);
    free_names(names, n);
    int rc = load_entries(ld, f, &e);
    entries_free(&e);
    if (rc)
        return rc;
    if (list_dir(ld, dir, 2, 0, NULL, &names, &n) != 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t lp = strlen(prefix), ln = strlen(names[i]);
        char *sub = xmalloc(lp + ln + 2);
        if (lp) {
            memcpy(sub, prefix, lp);
            sub[lp] = '/';
            memcpy(sub + lp + 1, names[i], ln + 1);
        } else {
            memcpy(sub, names[i], ln + 1);
        }
        char *subdir = path_join(dir, names[i]);
        rc = load_eml_dir(ld, subdir, sub, depth + 1);
        free(subdir);
        free(sub);
    }
    free_names(names, n);
    return rc;
}

mr_mailbox *mr_mailbox_load(const char *path, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = 0;
    loader ld = {NULL, 0, err, errlen};
    if (!path || !*path) {
        fail(&ld, path ? path : "(null)", "no path given");
        return NULL;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        fail(&ld, path, "%s", strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        fail(&ld, path, "not a directory");
        return NULL;
    }
    ld.mb = mr_mailbox_new();
    ld.mb->source = xstrdup(path);
    char *cur = path_join(path, "cur"), *nw = path_join(path, "new");
    int maildir = is_dir(cur) || is_dir(nw);
    free(cur);
    free(nw);
    int rc = maildir ? load_maildir(&ld, path) : load_eml_dir(&ld, path, "", 0);
    if (rc != 0) {
        mr_mailbox_free(ld.mb);
        return NULL;
    }
    return ld.mb;
}

/* ------------------------------------------------------------ JSON */

/* A JSON string: escapes for '"', '\\' and controls; bytes that are not
 * UTF-8 become U+FFFD, so the output is always valid JSON text. */
static void json_str(FILE *f, const uint8_t *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n;) {
        uint8_t c = s[i];
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            switch (c) {
            case '\n': fputs("\\n", f); break;
            case '\r': fputs("\\r", f); break;
            case '\t': fputs("\\t", f); break;
            default: fprintf(f, "\\u%04x", c); break;
            }
            i++;
        } else if (c < 0x80) {
            fputc(c, f);
            i++;
        } else {
            /* Validate one UTF-8 sequence (RFC 3629 4). */
            size_t len = 0;
            uint32_t min = 0, cp = 0;
            if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; cp = c & 0x1f; }
            else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; cp = c & 0x0f; }
            else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; cp = c & 0x07; }
            int ok = len && i + len <= n;
            for (size_t k = 1; ok && k < len; k++) {
                if ((s[i + k] & 0xc0) != 0x80)
                    ok = 0;
                else
                    cp = (cp << 6) | (s[i + k] & 0x3f);
            }
            if (ok && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
                ok = 0;
            if (ok) {
                fwrite(s + i, 1, len, f);
                i += len;
            } else {
                fputs("\\ufffd", f);
                i++;
            }
        }
    }
    fputc('"', f);
}

static void json_cstr(FILE *f, const char *s)
{
    if (!s)
        fputs("null", f);
    else
        json_str(f, (const uint8_t *)s, strlen(s));
}

/* The first Subject: field's value, unfolded (CRLF before WSP removed),
 * leading and trailing white space trimmed; raw (RFC 2047 words are not
 * decoded).  *len = 0 and NULL when there is none.  Caller frees. */
static char *first_subject(const mr_msgdata *d)
{
    const uint8_t *p = d->data, *end = d->data + d->len;
    while (p < end) {
        const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *next = eol ? eol + 1 : end;
        size_t linelen = (size_t)((eol ? eol : end) - p);
        if (linelen && p[linelen - 1] == '\r')
            linelen--;
        if (linelen == 0)
            break; /* end of header */
        if (linelen >= 8 && strncasecmp((const char *)p, "Subject:", 8) == 0) {
            /* Collect this line and its continuations. */
            const uint8_t *q = next;
            while (q < end && (*q == ' ' || *q == '\t')) {
                const uint8_t *e2 = memchr(q, '\n', (size_t)(end - q));
                q = e2 ? e2 + 1 : end;
            }
            char *out = xmalloc((size_t)(q - p) + 1);
            size_t o = 0;
            for (const uint8_t *r = p + 8; r < q; r++)
                if (*r != '\r' && *r != '\n')
                    out[o++] = (char)*r;
            out[o] = 0;
            size_t s = 0;
            while (out[s] == ' ' || out[s] == '\t')
                s++;
            while (o > s && (out[o - 1] == ' ' || out[o - 1] == '\t'))
                o--;
            memmove(out, out + s, o - s);
            out[o - s] = 0;
            return out;
        }
        p = next;
    }
    return NULL;
}

static void json_flags(FILE *f, const mr_msg *m)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        {MR_F_SEEN, "\\\\Seen"},       {MR_F_ANSWERED, "\\\\Answered"}, {MR_F_FLAGGED, "\\\\Flagged"},
        {MR_F_DELETED, "\\\\Deleted"}, {MR_F_DRAFT, "\\\\Draft"},       {MR_F_RECENT, "\\\\Recent"},
    };
    fputc('[', f);
    int first = 1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (m->flags & names[i].bit) {
            fprintf(f, "%s\"%s\"", first ? "" : ",", names[i].name);
            first = 0;
        }
    fputc(']', f);
}

int mr_mailbox_write_json(const mr_mailbox *mb, FILE *f)
{
    if (!mb || !f)
        return -1;
    fputs("{\"source\":", f);
    json_cstr(f, mb->source);
    fputs(",\"folders\":[", f);
    for (size_t i = 0; i < mb->nfolders; i++) {
        const mr_folder *fo = mb->folders[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", f);
        json_cstr(f, fo->name);
        fprintf(f, ",\"uidvalidity\":%lu,\"uidnext\":%lu,\"subscribed\":%s,\"noselect\":%s,\"messages\":[",
                (unsigned long)fo->uidvalidity, (unsigned long)fo->uidnext, fo->subscribed ? "true" : "false",
                fo->noselect ? "true" : "false");
        for (size_t j = 0; j < fo->count; j++) {
            const mr_msg *m = fo->msgs[j];
            fprintf(f, "%s{\"uid\":%lu,\"size\":%zu,\"flags\":", j ? "," : "", (unsigned long)m->uid, m->d->len);
            json_flags(f, m);
            fputs(",\"keywords\":[", f);
            for (size_t k = 0; k < m->nkeywords; k++) {
                if (k)
                    fputc(',', f);
                json_cstr(f, m->keywords[k]);
            }
            fprintf(f, "],\"internal_date\":%lld,\"uidl\":", (long long)m->internal_date);
            json_cstr(f, m->uidl);
            fputs(",\"subject\":", f);
            char *subj = first_subject(m->d);
            json_cstr(f, subj);
            free(subj);
            fputs(",\"source\":", f);
            json_cstr(f, m->d->source);
            fprintf(f, ",\"pop3_deleted\":%s}", m->pop3_deleted ? "true" : "false");
        }
        fputs("]}", f);
    }
    fputs("]}\n", f);
    return ferror(f) ? -1 : 0;
}
