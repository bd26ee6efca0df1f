/*
 * test_fake_mailbox.c - unit tests of the fake servers' mailbox
 * (fake-servers/mr_mailbox.h) and its MIME views (mr_mime.h).
 *
 * Mailbox: the default Maildir (corpora/mailbox/default/, made by
 * corpora/mailbox/make-default.py) loads with the folders, counts, flags
 * and CRLF line ends it should; a directory of .eml files too; clones are
 * independent and share the bytes; CREATE/DELETE/RENAME (RFC 9051 6.3.4-
 * 6.3.6, INBOX rename included), APPEND/COPY/remove, keywords, the JSON
 * (parsed back with jansson), errors as "PATH: message".
 *
 * MIME: one case per pair of files in tests/data/fake-mime/ (README.md
 * there gives the format): ENVELOPE, BODYSTRUCTURE, BODY and BODY[section]
 * compared with the expected bytes.  The dovecot-* cases hold what Dovecot
 * answered for the same message (an independent server); every computed
 * ENVELOPE/BODYSTRUCTURE/BODY is also wrapped in "* 1 FETCH (...)" and fed
 * to mailrig's own IMAP parser in strict mode, which must type it with no
 * RFC diagnostic.  Then malformed section specs (-1), SEARCH helpers.
 *
 * Run from the top directory: build/tests/test_fake_mailbox.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "imap/mr_imap.h"
#include "mr_mailbox.h"
#include "mr_mime.h"

#define DEFAULT_MB "corpora/mailbox/default"
#define CASES_DIR "tests/data/fake-mime"

/* ------------------------------------------------------------ helpers */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    mr_buf b = MR_BUF_INIT;
    uint8_t tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        mr_buf_add(&b, tmp, n);
    fclose(f);
    *len = b.len;
    if (!b.data)
        mr_buf_reserve(&b, 1);
    return b.data;
}

static void write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

static int has_bare_lf(const mr_msgdata *d)
{
    for (size_t i = 0; i < d->len; i++)
        if (d->data[i] == '\n' && (i == 0 || d->data[i - 1] != '\r'))
            return 1;
    return 0;
}

/* ------------------------------------------------------------ loading */

static void test_load_default(void **state)
{
    (void)state;
    char err[256];
    mr_mailbox *mb = mr_mailbox_load(DEFAULT_MB, err, sizeof err);
    assert_non_null(mb);
    assert_int_equal(mb->nfolders, 4);
    assert_string_equal(mb->folders[0]->name, "INBOX");
    assert_string_equal(mb->folders[1]->name, "Archive");
    assert_string_equal(mb->folders[2]->name, "Archive/2024");
    assert_string_equal(mb->folders[3]->name, "Sent");
    mr_folder *in = mr_mailbox_find(mb, "inbox");
    assert_ptr_equal(in, mb->folders[0]);
    assert_int_equal(in->count, 15);
    assert_int_equal(in->uidnext, 16);
    assert_int_equal(in->uidvalidity, 1);
    for (size_t i = 0; i < in->count; i++) {
        const mr_msg *m = in->msgs[i];
        assert_int_equal(m->uid, i + 1);
        assert_false(has_bare_lf(m->d));
        assert_int_equal(strlen(m->uidl), 32);
        for (const char *p = m->uidl; *p; p++)
            assert_true(*p >= 0x21 && *p <= 0x7e);
        assert_non_null(m->d->source);
        assert_true(m->internal_date > 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(m->uidl, in->msgs[j]->uidl);
    }
    assert_int_equal(in->msgs[0]->flags, MR_F_SEEN);
    assert_int_equal(in->msgs[1]->flags, MR_F_SEEN | MR_F_ANSWERED);
    assert_int_equal(in->msgs[2]->flags, MR_F_FLAGGED);
    assert_int_equal(in->msgs[3]->flags, 0);
    assert_int_equal(in->msgs[6]->flags, MR_F_DELETED);
    assert_int_equal(in->msgs[11]->flags, MR_F_SEEN | MR_F_FLAGGED);
    assert_int_equal(in->msgs[13]->flags, MR_F_DRAFT);
    assert_int_equal(in->msgs[14]->flags, MR_F_RECENT); /* new/ */
    assert_non_null(strstr(in->msgs[14]->d->source, "/new/0015.mailrig"));
    assert_int_equal(mr_mailbox_find(mb, "Sent")->count, 2);
    assert_int_equal(mr_mailbox_find(mb, "Archive")->count, 2);
    assert_int_equal(mr_mailbox_find(mb, "Archive/2024")->count, 2);
    assert_false(mr_mailbox_find(mb, "Archive")->noselect);
    assert_null(mr_mailbox_find(mb, "sent")); /* only INBOX ignores case */
    /* The same uidls on a second load (RFC 1939 7: stable). */
    mr_mailbox *again = mr_mailbox_load(DEFAULT_MB, err, sizeof err);
    assert_non_null(again);
    assert_string_equal(again->folders[0]->msgs[4]->uidl, in->msgs[4]->uidl);
    mr_mailbox_free(again);
    mr_mailbox_free(mb);
}

static void test_load_errors(void **state)
{
    (void)state;
    char err[256];
    assert_null(mr_mailbox_load("/nonexistent/mailrig-mailbox", err, sizeof err));
    assert_string_equal(err, "/nonexistent/mailrig-mailbox: No such file or directory");
    assert_null(mr_mailbox_load("README.md", err, sizeof err));
    assert_string_equal(err, "README.md: not a directory");
    /* A tiny error buffer is not overrun. */
    char small[8];
    assert_null(mr_mailbox_load("/nonexistent/x", small, sizeof small));
    assert_int_equal(strlen(small), 7);
    /* A Maildir++ folder named INBOX is refused. */
    char dir[] = "/tmp/mr-mailbox-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256];
    snprintf(p, sizeof p, "%s/cur", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/.INBOX", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_null(mr_mailbox_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "/.INBOX: a Maildir++ folder may not be named INBOX"));
    rmdir(p);
    snprintf(p, sizeof p, "%s/cur", dir);
    rmdir(p);
    rmdir(dir);
}

static void test_load_eml_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/mr-eml-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[256], sub[256];
    snprintf(p, sizeof p, "%s/b.eml", dir);
    write_file(p, "Subject: second\n\nbare CR\rstays\n");
    snprintf(p, sizeof p, "%s/a.eml", dir);
    write_file(p, "Subject: first\r\n\r\nalready CRLF\r\nand LF\n");
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    write_file(p, "not a message\n");
    snprintf(sub, sizeof sub, "%s/Lists", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(p, sizeof p, "%s/Lists/c.eml", dir);
    write_file(p, "Subject: third\n\nx\n");
    char err[256];
    mr_mailbox *mb = mr_mailbox_load(dir, err, sizeof err);
    assert_non_null(mb);
    assert_int_equal(mb->nfolders, 2);
    mr_folder *in = mb->folders[0];
    assert_int_equal(in->count, 2);
    assert_memory_equal(in->msgs[0]->d->data, "Subject: first\r\n\r\nalready CRLF\r\nand LF\r\n", in->msgs[0]->d->len);
    assert_int_equal(in->msgs[1]->d->len, strlen("Subject: second\r\n\r\nbare CR\rstays\r\n"));
    assert_memory_equal(in->msgs[1]->d->data, "Subject: second\r\n\r\nbare CR\rstays\r\n", in->msgs[1]->d->len);
    assert_int_equal(in->msgs[0]->flags, MR_F_RECENT);
    mr_folder *lists = mr_mailbox_find(mb, "Lists");
    assert_non_null(lists);
    assert_int_equal(lists->count, 1);
    mr_mailbox_free(mb);
    snprintf(p, sizeof p, "%s/Lists/c.eml", dir);
    unlink(p);
    rmdir(sub);
    const char *names[] = {"a.eml", "b.eml", "notes.txt"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------ changes */

static void test_clone_independent(void **state)
{
    (void)state;
    char err[256];
    mr_mailbox *mb = mr_mailbox_load(DEFAULT_MB, err, sizeof err);
    assert_non_null(mb);
    mr_mailbox *c = mr_mailbox_clone(mb);
    mr_folder *ci = c->folders[0], *oi = mb->folders[0];
    assert_ptr_equal(ci->msgs[0]->d, oi->msgs[0]->d); /* bytes shared */
    assert_int_equal(oi->msgs[0]->d->refs, 2);
    ci->msgs[0]->flags |= MR_F_DELETED;
    mr_msg_add_keyword(ci->msgs[0], "$Junk");
    mr_folder_remove(ci, 1);
    assert_non_null(mr_mailbox_create(c, "New"));
    assert_int_equal(oi->msgs[0]->flags, MR_F_SEEN);
    assert_int_equal(oi->msgs[0]->nkeywords, 0);
    assert_int_equal(oi->count, 15);
    assert_int_equal(ci->count, 14);
    assert_null(mr_mailbox_find(mb, "New"));
    assert_int_equal(oi->msgs[1]->d->refs, 1);
    /* The original goes first; the clone's bytes stay valid. */
    mr_mailbox_free(mb);
    assert_int_equal(ci->msgs[0]->d->refs, 1);
    mr_buf b = MR_BUF_INIT;
    mr_mime_envelope(ci->msgs[0]->d, &b);
    assert_non_null(b.data);
    mr_buf_free(&b);
    mr_mailbox_free(c);
    mr_mailbox_free(NULL);
}

static void test_create_delete(void **state)
{
    (void)state;
    mr_mailbox *mb = mr_mailbox_new();
    assert_int_equal(mb->nfolders, 1);
    mr_folder *f = mr_mailbox_create(mb, "a/b/c");
    assert_non_null(f);
    assert_string_equal(f->name, "a/b/c");
    assert_int_equal(mb->nfolders, 4); /* RFC 9051 6.3.4: superiors made */
    assert_false(mr_mailbox_find(mb, "a")->noselect);
    assert_null(mr_mailbox_create(mb, "a/b"));
    assert_null(mr_mailbox_create(mb, "inbox"));
    const char *bad[] = {"", "/x", "x/", "a//b", "a\tb", "x\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(mr_mailbox_create(mb, bad[i]));
    assert_non_null(mr_mailbox_create(mb, "inbox/sub"));
    assert_non_null(mr_mailbox_find(mb, "INBOX/sub"));
    assert_int_equal(mr_mailbox_delete(mb, "INBOX"), -1);
    assert_int_equal(mr_mailbox_delete(mb, "Inbox"), -1);
    assert_int_equal(mr_mailbox_delete(mb, "nope"), -1);
    /* With inferiors: the name stays, \Noselect; then it is an error. */
    mr_folder_append(mr_mailbox_find(mb, "a"), (const uint8_t *)"x\r\n", 3, 0, 0);
    assert_int_equal(mr_mailbox_delete(mb, "a"), 0);
    assert_true(mr_mailbox_find(mb, "a")->noselect);
    assert_int_equal(mr_mailbox_find(mb, "a")->count, 0);
    assert_int_equal(mr_mailbox_delete(mb, "a"), -1);
    assert_int_equal(mr_mailbox_delete(mb, "a/b/c"), 0);
    assert_null(mr_mailbox_find(mb, "a/b/c"));
    /* A deleted name made again gets a new UIDVALIDITY (RFC 9051 2.3.1.1). */
    uint32_t uv = mr_mailbox_find(mb, "a/b")->uidvalidity;
    assert_int_equal(mr_mailbox_delete(mb, "a/b"), 0);
    mr_folder *again = mr_mailbox_create(mb, "a/b");
    assert_non_null(again);
    assert_int_not_equal(again->uidvalidity, uv);
    /* INBOX stays first, the rest in name order. */
    assert_string_equal(mb->folders[0]->name, "INBOX");
    for (size_t i = 2; i < mb->nfolders; i++)
        assert_true(strcmp(mb->folders[i - 1]->name, mb->folders[i]->name) < 0);
    mr_mailbox_free(mb);
}

static void test_rename(void **state)
{
    (void)state;
    char err[256];
    mr_mailbox *mb = mr_mailbox_load(DEFAULT_MB, err, sizeof err);
    assert_non_null(mb);
    assert_int_equal(mr_mailbox_rename(mb, "Sent", "Archive"), -1); /* exists */
    assert_int_equal(mr_mailbox_rename(mb, "Nope", "X"), -1);
    assert_int_equal(mr_mailbox_rename(mb, "Archive", "Archive/2024/x"), -1); /* into itself */
    assert_int_equal(mr_mailbox_rename(mb, "Sent", "bad//name"), -1);
    assert_int_equal(mr_mailbox_rename(mb, "Sent", "Outbox"), 0);
    assert_null(mr_mailbox_find(mb, "Sent"));
    assert_int_equal(mr_mailbox_find(mb, "Outbox")->count, 2);
    /* Inferiors move with their parent. */
    assert_int_equal(mr_mailbox_rename(mb, "Archive", "Old/Archive"), 0);
    assert_non_null(mr_mailbox_find(mb, "Old"));
    assert_int_equal(mr_mailbox_find(mb, "Old/Archive/2024")->count, 2);
    assert_null(mr_mailbox_find(mb, "Archive/2024"));
    /* RFC 9051 6.3.6: INBOX's messages move; INBOX stays, empty. */
    assert_int_equal(mr_mailbox_rename(mb, "inbox", "Saved"), 0);
    mr_folder *in = mr_mailbox_find(mb, "INBOX"), *saved = mr_mailbox_find(mb, "Saved");
    assert_non_null(in);
    assert_non_null(saved);
    assert_int_equal(in->count, 0);
    assert_int_equal(in->uidnext, 16); /* UIDs are not reused */
    assert_int_equal(saved->count, 15);
    assert_int_equal(saved->msgs[14]->uid, 15);
    assert_string_equal(mb->folders[0]->name, "INBOX");
    mr_mailbox_free(mb);
}

static void test_append_copy_remove(void **state)
{
    (void)state;
    char err[256];
    mr_mailbox *mb = mr_mailbox_load(DEFAULT_MB, err, sizeof err);
    assert_non_null(mb);
    mr_folder *sent = mr_mailbox_find(mb, "Sent"), *in = mb->folders[0];
    const char *raw = "Subject: appended\r\n\r\nbody\n"; /* kept as given */
    mr_msg *m = mr_folder_append(sent, (const uint8_t *)raw, strlen(raw), MR_F_SEEN, 1700000000);
    assert_int_equal(m->uid, 3);
    assert_int_equal(sent->uidnext, 4);
    assert_int_equal(m->flags, MR_F_SEEN | MR_F_RECENT);
    assert_int_equal(m->internal_date, 1700000000);
    assert_memory_equal(m->d->data, raw, strlen(raw));
    assert_null(m->d->source);
    assert_int_equal(strlen(m->uidl), 32);
    mr_msg_add_keyword(in->msgs[0], "$Forwarded");
    mr_msg *c = mr_folder_copy_in(sent, in->msgs[0]);
    assert_int_equal(c->uid, 4);
    assert_ptr_equal(c->d, in->msgs[0]->d);
    assert_int_equal(c->d->refs, 2);
    assert_true(mr_msg_has_keyword(c, "$forwarded"));
    assert_true(c->flags & MR_F_SEEN);
    assert_string_not_equal(c->uidl, in->msgs[0]->uidl);
    /* A copy into the same folder has another uidl too (RFC 1939 7). */
    mr_msg *c2 = mr_folder_copy_in(in, in->msgs[0]);
    assert_string_not_equal(c2->uidl, in->msgs[0]->uidl);
    assert_int_equal(c2->uid, 16);
    mr_folder_remove(sent, 0);
    assert_int_equal(sent->count, 3);
    assert_int_equal(sent->msgs[0]->uid, 2);
    mr_folder_remove(sent, 99); /* out of range: nothing */
    assert_int_equal(sent->count, 3);
    mr_mailbox_free(mb);
}

static void test_keywords(void **state)
{
    (void)state;
    mr_mailbox *mb = mr_mailbox_new();
    mr_msg *m = mr_folder_append(mb->folders[0], (const uint8_t *)"x\r\n", 3, 0, 0);
    mr_msg_add_keyword(m, "$Forwarded");
    mr_msg_add_keyword(m, "$forwarded");
    mr_msg_add_keyword(m, "Junk");
    assert_int_equal(m->nkeywords, 2);
    assert_true(mr_msg_has_keyword(m, "$FORWARDED"));
    mr_msg_remove_keyword(m, "$FORWARDED");
    assert_int_equal(m->nkeywords, 1);
    assert_false(mr_msg_has_keyword(m, "$Forwarded"));
    assert_true(mr_msg_has_keyword(m, "junk"));
    mr_msg_remove_keyword(m, "absent");
    assert_int_equal(m->nkeywords, 1);
    mr_mailbox_free(mb);
}

static void test_json(void **state)
{
    (void)state;
    char err[256];
    mr_mailbox *mb = mr_mailbox_load(DEFAULT_MB, err, sizeof err);
    assert_non_null(mb);
    mr_msg_add_keyword(mb->folders[0]->msgs[0], "quote\"back\\slash\x01");
    const char *odd = "Subject: \xff\xfe bytes and \"quotes\"\r\n\r\n";
    mr_folder_append(mb->folders[0], (const uint8_t *)odd, strlen(odd), 0, 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(mr_mailbox_write_json(mb, f), 0);
    fclose(f);
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    if (!j)
        fail_msg("JSON does not parse: %s at %d: %s", je.text, je.position, text);
    json_t *folders = json_object_get(j, "folders");
    assert_int_equal(json_array_size(folders), 4);
    json_t *inbox = json_array_get(folders, 0);
    assert_string_equal(json_string_value(json_object_get(inbox, "name")), "INBOX");
    json_t *msgs = json_object_get(inbox, "messages");
    assert_int_equal(json_array_size(msgs), 16);
    json_t *m0 = json_array_get(msgs, 0);
    assert_string_equal(json_string_value(json_object_get(m0, "subject")), "Welcome to mailrig");
    assert_string_equal(json_string_value(json_array_get(json_object_get(m0, "flags"), 0)), "\\Seen");
    assert_string_equal(json_string_value(json_array_get(json_object_get(m0, "keywords"), 0)),
                        "quote\"back\\slash\x01");
    assert_int_equal(json_integer_value(json_object_get(m0, "uid")), 1);
    assert_string_equal(json_string_value(json_object_get(m0, "uidl")), mb->folders[0]->msgs[0]->uidl);
    /* Message 10 has no Subject: null. */
    assert_true(json_is_null(json_object_get(json_array_get(msgs, 9), "subject")));
    /* Not UTF-8: U+FFFD. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(msgs, 15), "subject")),
                        "\xef\xbf\xbd\xef\xbf\xbd bytes and \"quotes\"");
    assert_non_null(strstr(text, "\"name\":\"Archive/2024\""));
    json_decref(j);
    free(text);
    mr_mailbox_free(mb);
}

/* ------------------------------------------------------------ MIME cases */

/* Undo the .expected escapes (\r \n \\ \xHH) of s into b. */
static void unescape(const char *s, mr_buf *b)
{
    for (; *s; s++) {
        if (*s != '\\') {
            mr_buf_addc(b, (uint8_t)*s);
            continue;
        }
        s++;
        if (*s == 'r')
            mr_buf_addc(b, '\r');
        else if (*s == 'n')
            mr_buf_addc(b, '\n');
        else if (*s == '\\')
            mr_buf_addc(b, '\\');
        else if (*s == 'x' && s[1] && s[2]) {
            char hex[3] = {s[1], s[2], 0};
            mr_buf_addc(b, (uint8_t)strtoul(hex, NULL, 16));
            s += 2;
        } else {
            fail_msg("bad escape \\%c", *s);
        }
    }
}

/* Parse "* 1 FETCH (...)\r\n" in strict mode: one typed FETCH of nitems
 * items, no diagnostics. */
static void check_strict(const char *name, const mr_buf *fetch, size_t nitems)
{
    mr_options opt;
    memset(&opt, 0, sizeof opt);
    opt.mode = MR_STRICT;
    mr_imap_parser *p = mr_imap_new(&opt);
    assert_non_null(p);
    mr_imap_skip_greeting(p);
    size_t off = 0, responses = 0;
    while (off < fetch->len) {
        size_t used = 0;
        mr_imap_event ev;
        mr_event_type t = mr_imap_next(p, fetch->data + off, fetch->len - off, &used, &ev);
        off += used;
        if (t == MR_EV_NEED_MORE)
            break;
        if (t == MR_EV_ERROR)
            fail_msg("%s: the IMAP parser rejects our FETCH: error %d: %.*s", name, (int)ev.error.code,
                     (int)fetch->len, (const char *)fetch->data);
        if (t == MR_EV_RESPONSE) {
            const mr_imap_response *r = ev.response;
            responses++;
            if (r->n_diags)
                fail_msg("%s: strict diagnostic %s: %s in %.*s", name, r->diags[0].ref, r->diags[0].message,
                         (int)fetch->len, (const char *)fetch->data);
            assert_int_equal(r->type, MR_IMAP_TYPE_FETCH);
            assert_true(r->typed);
            assert_int_equal(r->u.fetch.n, nitems);
            for (size_t i = 0; i < r->u.fetch.n; i++) {
                const mr_imap_fetch_item *it = &r->u.fetch.items[i];
                if (it->kind == MR_IMAP_FETCH_ENVELOPE)
                    assert_non_null(it->envelope);
                else
                    assert_non_null(it->body);
            }
        }
    }
    assert_int_equal(off, fetch->len);
    assert_int_equal(responses, 1);
    mr_imap_free(p);
}

static void expect_equal(const char *name, const char *what, const mr_buf *got, const mr_buf *want)
{
    if (got->len != want->len || (got->len && memcmp(got->data, want->data, got->len) != 0))
        fail_msg("%s: %s differs\n  want: %.*s\n  got:  %.*s", name, what, (int)want->len, (const char *)want->data,
                 (int)got->len, (const char *)got->data);
}

static void run_case(const char *dir, const char *stem)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.eml", dir, stem);
    size_t len;
    uint8_t *bytes = read_file(path, &len);
    if (!bytes)
        fail_msg("%s: cannot read", path);
    mr_msgdata d = {1, bytes, len, NULL, NULL};
    snprintf(path, sizeof path, "%s/%s.expected", dir, stem);
    size_t elen;
    char *exp = (char *)read_file(path, &elen);
    assert_non_null(exp);
    exp = realloc(exp, elen + 1);
    exp[elen] = 0;
    mr_buf env = MR_BUF_INIT, bs = MR_BUF_INIT, body = MR_BUF_INIT;
    mr_mime_envelope(&d, &env);
    mr_mime_bodystructure(&d, 1, &bs);
    mr_mime_bodystructure(&d, 0, &body);
    size_t checked = 0;
    for (char *line = strtok(exp, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == 0)
            continue;
        mr_buf want = MR_BUF_INIT, got = MR_BUF_INIT;
        if (!strncmp(line, "ENVELOPE ", 9)) {
            unescape(line + 9, &want);
            expect_equal(stem, "ENVELOPE", &env, &want);
        } else if (!strncmp(line, "BODYSTRUCTURE ", 14)) {
            unescape(line + 14, &want);
            expect_equal(stem, "BODYSTRUCTURE", &bs, &want);
        } else if (!strncmp(line, "BODY ", 5)) {
            unescape(line + 5, &want);
            expect_equal(stem, "BODY", &body, &want);
        } else if (!strncmp(line, "SECTION [", 9)) {
            char *end = strstr(line + 9, "] ");
            char *end2 = line + strlen(line) - 1;
            if (!end && *end2 == ']')
                end = end2;
            assert_non_null(end);
            mr_buf spec = MR_BUF_INIT;
            if (end != end2)
                unescape(end + 2, &want);
            *end = 0;
            unescape(line + 9, &spec);
            if (mr_mime_section(&d, (const char *)spec.data, spec.len, &got) != 0)
                fail_msg("%s: section [%.*s] rejected", stem, (int)spec.len, (const char *)spec.data);
            char what[300];
            snprintf(what, sizeof what, "BODY[%.*s]", (int)spec.len, (const char *)spec.data);
            expect_equal(stem, what, &got, &want);
            mr_buf_free(&spec);
        } else if (!strncmp(line, "BADSECTION ", 11)) {
            unescape(line + 11, &want);
            if (mr_mime_section(&d, (const char *)want.data, want.len, &got) != -1)
                fail_msg("%s: section [%s] should be malformed", stem, line + 11);
            assert_int_equal(got.len, 0);
        } else {
            fail_msg("%s: unknown line: %s", stem, line);
        }
        checked++;
        mr_buf_free(&want);
        mr_buf_free(&got);
    }
    assert_true(checked >= 2);
    mr_buf fetch = MR_BUF_INIT;
    mr_buf_adds(&fetch, "* 1 FETCH (ENVELOPE ");
    mr_buf_add(&fetch, env.data, env.len);
    mr_buf_adds(&fetch, " BODYSTRUCTURE ");
    mr_buf_add(&fetch, bs.data, bs.len);
    mr_buf_adds(&fetch, " BODY ");
    mr_buf_add(&fetch, body.data, body.len);
    mr_buf_adds(&fetch, ")\r\n");
    check_strict(stem, &fetch, 3);
    mr_buf_free(&fetch);
    mr_buf_free(&env);
    mr_buf_free(&bs);
    mr_buf_free(&body);
    mr_mime_release(&d);
    free(bytes);
    free(exp);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_mime_cases(void **state)
{
    (void)state;
    DIR *dp = opendir(CASES_DIR);
    assert_non_null(dp);
    char *names[512];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dp)) && n < 512) {
        size_t l = strlen(de->d_name);
        if (l > 9 && !strcmp(de->d_name + l - 9, ".expected")) {
            names[n] = strdup(de->d_name);
            names[n][l - 9] = 0;
            n++;
        }
    }
    closedir(dp);
    qsort(names, n, sizeof *names, cmp_names);
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        run_case(CASES_DIR, names[i]);
        free(names[i]);
    }
}

/* Every message of the default mailbox and of corpora/mailbox{,-imap}:
 * what we compute parses strictly, and BODY[n] of every leaf has the size
 * BODYSTRUCTURE announces. */
static void strict_all(const mr_mailbox *mb)
{
    for (size_t f = 0; f < mb->nfolders; f++)
        for (size_t i = 0; i < mb->folders[f]->count; i++) {
            mr_msgdata *d = mb->folders[f]->msgs[i]->d;
            mr_buf fetch = MR_BUF_INIT;
            mr_buf_adds(&fetch, "* 1 FETCH (ENVELOPE ");
            mr_mime_envelope(d, &fetch);
            mr_buf_adds(&fetch, " BODYSTRUCTURE ");
            mr_mime_bodystructure(d, 1, &fetch);
            mr_buf_adds(&fetch, " BODY ");
            mr_mime_bodystructure(d, 0, &fetch);
            mr_buf_adds(&fetch, ")\r\n");
            check_strict(d->source, &fetch, 3);
            mr_buf_free(&fetch);
            /* HEADER + TEXT is the whole message. */
            mr_buf h = MR_BUF_INIT, t = MR_BUF_INIT, all = MR_BUF_INIT;
            assert_int_equal(mr_mime_section(d, "HEADER", 6, &h), 0);
            assert_int_equal(mr_mime_section(d, "TEXT", 4, &t), 0);
            assert_int_equal(mr_mime_section(d, "", 0, &all), 0);
            assert_int_equal(h.len + t.len, d->len);
            assert_int_equal(all.len, d->len);
            mr_buf_free(&h);
            mr_buf_free(&t);
            mr_buf_free(&all);
        }
}

static void test_mime_strict_corpora(void **state)
{
    (void)state;
    mr_mime_init();
    const char *dirs[] = {DEFAULT_MB, "corpora/mailbox", "corpora/mailbox-imap"};
    for (size_t k = 0; k < 3; k++) {
        char err[256];
        mr_mailbox *mb = mr_mailbox_load(dirs[k], err, sizeof err);
        if (!mb)
            fail_msg("%s", err);
        strict_all(mb);
        mr_mailbox_free(mb);
    }
}

static mr_msgdata *default_msg(mr_mailbox **mb, size_t folder, size_t i)
{
    char err[256];
    *mb = mr_mailbox_load(DEFAULT_MB, err, sizeof err);
    assert_non_null(*mb);
    return (*mb)->folders[folder]->msgs[i]->d;
}

static void test_sections_malformed(void **state)
{
    (void)state;
    mr_mailbox *mb;
    mr_msgdata *d = default_msg(&mb, 0, 5); /* the forward */
    const char *bad[] = {"1.", "0", "01", "1..2", ".1", "1.0", "HEADER.FIELDS", "HEADER.FIELDS ()",
                         "HEADER.FIELDS (A", "HEADER.FIELDS (A B))", "HEADER.FIELDS  (A)", "HEADER.FIELDS (A  B)",
                         "MIME", "TEXTX", "HEADERS", "1.MIMEX", "1 ", " 1", "99999999999", "1.2.header.fields(a)",
                         "HEADER.FIELDS (\"a)", "HEADER.FIELDS ({5}\r\nab)", "header.fields.not", "1.TEXT.MIME"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mr_buf b = MR_BUF_INIT;
        if (mr_mime_section(d, bad[i], strlen(bad[i]), &b) != -1)
            fail_msg("section [%s] accepted", bad[i]);
        assert_int_equal(b.len, 0);
    }
    /* Too many part numbers. */
    char many[400] = "";
    for (int i = 0; i < 70; i++)
        strcat(many, i ? ".1" : "1");
    mr_buf b = MR_BUF_INIT;
    assert_int_equal(mr_mime_section(d, many, strlen(many), &b), -1);
    /* Well-formed but absent parts: empty, not an error. */
    const char *absent[] = {"9", "1.1", "1.HEADER", "2.1.5", "3.MIME"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        assert_int_equal(mr_mime_section(d, absent[i], strlen(absent[i]), &b), 0);
        assert_int_equal(b.len, 0);
    }
    /* Literal and quoted field names, lower case keywords. */
    const char *ok[] = {"header.fields (\"Subject\")", "HEADER.FIELDS ({7}\r\nSubject)", "2.header.fields (subject)"};
    for (size_t i = 0; i < 3; i++) {
        mr_buf_reset(&b);
        assert_int_equal(mr_mime_section(d, ok[i], strlen(ok[i]), &b), 0);
        assert_true(b.len > 10);
        assert_memory_equal(b.data + b.len - 2, "\r\n", 2);
    }
    mr_buf_free(&b);
    mr_mailbox_free(mb);
}

static void test_search_helpers(void **state)
{
    (void)state;
    char err[256];
    mr_mailbox *mb = mr_mailbox_load(DEFAULT_MB, err, sizeof err);
    assert_non_null(mb);
    mr_msg **m = mb->folders[0]->msgs;
    assert_string_equal(mr_mime_header(m[0]->d, "subject"), "Welcome to mailrig");
    assert_null(mr_mime_header(m[9]->d, "Subject"));
    assert_string_equal(mr_mime_header(m[8]->d, "Subject"),
                        "A subject that is long enough to be folded over several lines by the sender,\tonce with a tab");
    /* The pointer stays the same (cached). */
    assert_ptr_equal(mr_mime_header(m[0]->d, "SUBJECT"), mr_mime_header(m[0]->d, "Subject"));
    /* Quoted-printable and base64 are decoded; case does not matter. */
    assert_true(mr_mime_contains(m[1]->d, "CAFÉ CRÈME", 1));
    assert_true(mr_mime_contains(m[1]->d, "soft line break somewhere", 1));
    assert_false(mr_mime_contains(m[1]->d, "=C3=A9", 1));
    assert_true(mr_mime_contains(m[2]->d, "grüße", 1));
    assert_false(mr_mime_contains(m[2]->d, "QmFzZTY0", 1));
    /* Headers count for TEXT only; RFC 2047 words are decoded. */
    assert_false(mr_mime_contains(m[6]->d, "jörg", 1));
    assert_true(mr_mime_contains(m[6]->d, "jörg", 0));
    assert_true(mr_mime_contains(m[6]->d, "KÖLN UND", 0));
    /* Inside the forwarded message; not in an attachment's bytes. */
    assert_true(mr_mime_contains(m[5]->d, "inner plain", 1));
    assert_false(mr_mime_contains(m[4]->d, "JVBER", 1));
    /* Latin-1 text is converted. */
    mr_msg *old = mr_mailbox_find(mb, "Archive")->msgs[0];
    assert_true(mr_mime_contains(old->d, "CAFÉ", 1));
    /* Date: "Sun, 02 Jun 2024 09:07:00 +0200". */
    assert_int_equal(mr_mime_date(m[0]->d), 1717312020LL);
    mr_msgdata nodate = {1, (uint8_t *)"Subject: x\r\n\r\n", 14, NULL, NULL};
    assert_int_equal(mr_mime_date(&nodate), -1);
    mr_mime_release(&nodate);
    mr_msgdata baddate = {1, (uint8_t *)"Date: yesterday\r\n\r\n", 19, NULL, NULL};
    assert_int_equal(mr_mime_date(&baddate), -1);
    mr_mime_release(&baddate);
    mr_mailbox_free(mb);
}

int main(void)
{
    mr_mime_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_default),       cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_eml_dir),       cmocka_unit_test(test_clone_independent),
        cmocka_unit_test(test_create_delete),      cmocka_unit_test(test_rename),
        cmocka_unit_test(test_append_copy_remove), cmocka_unit_test(test_keywords),
        cmocka_unit_test(test_json),               cmocka_unit_test(test_mime_cases),
        cmocka_unit_test(test_mime_strict_corpora), cmocka_unit_test(test_sections_malformed),
        cmocka_unit_test(test_search_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
