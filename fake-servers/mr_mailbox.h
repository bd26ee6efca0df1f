/*
 * mr_mailbox.h - the fake servers' mailbox: folders of messages with
 * UIDs, flags and dates, loaded from a directory of .eml files or a
 * Maildir, held in memory.
 *
 * The server loads one mailbox at start; every session that needs it gets
 * its own copy (mr_mailbox_clone: the message bytes are shared, the rest
 * is copied), so concurrent sessions never see each other's changes and
 * each session's result tells what its client did (mr_mailbox_write_json).
 *
 * Folder names use "/" as the hierarchy delimiter; "INBOX" is matched
 * without regard to case (RFC 9051 5.1).
 */
#ifndef MR_MAILBOX_H
#define MR_MAILBOX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* System flags (RFC 9051 2.3.2). */
enum {
    MR_F_SEEN = 1u << 0,
    MR_F_ANSWERED = 1u << 1,
    MR_F_FLAGGED = 1u << 2,
    MR_F_DELETED = 1u << 3,
    MR_F_DRAFT = 1u << 4,
    MR_F_RECENT = 1u << 5   /* IMAP4rev1 \Recent: set on load and APPEND */
};

/* The bytes of a message, shared between a mailbox and its clones. */
typedef struct mr_msgdata {
    unsigned refs;
    uint8_t *data;        /* the message with CRLF line ends */
    size_t len;
    char *source;         /* the file it came from, or NULL */
    void *mime;           /* mr_mime view, parsed on first use (mr_mime.h) */
} mr_msgdata;

typedef struct mr_msg {
    mr_msgdata *d;
    uint32_t uid;
    unsigned flags;       /* MR_F_* */
    char **keywords;      /* other flags ("$Forwarded", "Junk") */
    size_t nkeywords;
    time_t internal_date;
    char uidl[72];        /* POP3 unique-id: printable 0x21-0x7E, <= 70
                             chars (RFC 1939 7) */
    int pop3_deleted;     /* marked by POP3 DELE, undone by RSET */
} mr_msg;

typedef struct mr_folder {
    char *name;           /* "INBOX", "Sent", "Archive/2024" */
    mr_msg **msgs;
    size_t count, cap;
    uint32_t uidvalidity;
    uint32_t uidnext;
    int subscribed;
    int noselect;         /* \Noselect: a parent that holds no messages */
} mr_folder;

struct mr_mailbox {
    mr_folder **folders;  /* INBOX first */
    size_t nfolders, cap;
    char *source;         /* the directory it was loaded from */
};
typedef struct mr_mailbox mr_mailbox;

/* An empty mailbox with an empty INBOX. */
mr_mailbox *mr_mailbox_new(void);

/* Load PATH: a Maildir (cur/ and new/, subfolders as ".Name" or
 * ".Parent.Child" Maildir++ folders with their own cur/ new/), or a
 * directory of *.eml files (subdirectories become folders).  Messages are
 * sorted by file name; LF line ends become CRLF; Maildir info flags
 * (":2,FRS") give the flags; the file's mtime gives the internal date.
 * Bounded: at most 100,000 messages, each at most 64 MiB.  On error
 * returns NULL and writes "PATH: message" into err. */
mr_mailbox *mr_mailbox_load(const char *path, char *err, size_t errlen);

mr_mailbox *mr_mailbox_clone(const mr_mailbox *mb);
void mr_mailbox_free(mr_mailbox *mb);

mr_folder *mr_mailbox_find(const mr_mailbox *mb, const char *name);
/* Create (parents too, as needed); NULL if it exists or the name is bad. */
mr_folder *mr_mailbox_create(mr_mailbox *mb, const char *name);
/* 0 ok, -1 no such folder or INBOX (RFC 9051 6.3.4). */
int mr_mailbox_delete(mr_mailbox *mb, const char *name);
/* 0 ok, -1 no such folder or target exists; renaming INBOX moves its
 * messages to the new folder and leaves INBOX empty (RFC 9051 6.3.6). */
int mr_mailbox_rename(mr_mailbox *mb, const char *from, const char *to);

/* Append a copy of bytes (CRLF kept as given) with flags and date; the
 * message gets the folder's next UID.  Returns the message. */
mr_msg *mr_folder_append(mr_folder *f, const uint8_t *data, size_t len, unsigned flags,
                         time_t date);
/* Copy msg into f with a new UID (shares the bytes).  Returns the copy. */
mr_msg *mr_folder_copy_in(mr_folder *f, const mr_msg *msg);
/* Remove the message at index i (0-based), freeing it. */
void mr_folder_remove(mr_folder *f, size_t i);
/* Keywords: add/remove one (case-insensitive match, RFC 9051 2.3.2). */
void mr_msg_add_keyword(mr_msg *m, const char *kw);
void mr_msg_remove_keyword(mr_msg *m, const char *kw);
int mr_msg_has_keyword(const mr_msg *m, const char *kw);

/* The mailbox as JSON (one object: folders with their messages' uid,
 * size, flags, keywords, uidl, first Subject, source file), for session
 * results and the conformance runner. */
int mr_mailbox_write_json(const mr_mailbox *mb, FILE *f);

#endif
