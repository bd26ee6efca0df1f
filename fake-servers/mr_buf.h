/*
 * mr_buf.h - a growable byte buffer for the fake servers: replies being
 * built, transcripts, FETCH data.  Allocation failure aborts (the fake
 * servers are test tools: a server out of memory has nothing sensible to
 * answer); every size that comes from a peer is bounded before it gets
 * here.
 */
#ifndef MR_BUF_H
#define MR_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mr_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} mr_buf;

#define MR_BUF_INIT {NULL, 0, 0}

/* Make room for n more bytes; returns where they go (data + len). */
uint8_t *mr_buf_reserve(mr_buf *b, size_t n);
void mr_buf_add(mr_buf *b, const void *p, size_t n);
void mr_buf_adds(mr_buf *b, const char *s);
void mr_buf_addc(mr_buf *b, uint8_t c);
void mr_buf_printf(mr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mr_buf_vprintf(mr_buf *b, const char *fmt, va_list ap);
/* Drop the first n bytes (n <= len). */
void mr_buf_consume(mr_buf *b, size_t n);
void mr_buf_reset(mr_buf *b);   /* len = 0, keeps the memory */
void mr_buf_free(mr_buf *b);    /* frees, back to MR_BUF_INIT */
/* NUL-terminated copy of the contents, caller frees. */
char *mr_buf_strdup(const mr_buf *b);

#endif
