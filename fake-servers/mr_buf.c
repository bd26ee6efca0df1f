/* mr_buf.c - the growable byte buffer of mr_buf.h. */
#include "mr_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *mr_buf_reserve(mr_buf *b, size_t n)
{
    if (n > SIZE_MAX / 2 - b->len) {
        fputs("mailrig: buffer size overflow\n", stderr);
        abort();
    }
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            fputs("mailrig: out of memory\n", stderr);
            abort();
        }
        b->data = d;
        b->cap = cap;
    }
    return b->data + b->len;
}

void mr_buf_add(mr_buf *b, const void *p, size_t n)
{
    if (!n)
        return;
    memcpy(mr_buf_reserve(b, n), p, n);
    b->len += n;
}

void mr_buf_adds(mr_buf *b, const char *s) { mr_buf_add(b, s, strlen(s)); }

void mr_buf_addc(mr_buf *b, uint8_t c)
{
    *mr_buf_reserve(b, 1) = c;
    b->len++;
}

void mr_buf_vprintf(mr_buf *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n <= 0)
        return;
    uint8_t *p = mr_buf_reserve(b, (size_t)n + 1);
    vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void mr_buf_printf(mr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mr_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void mr_buf_consume(mr_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void mr_buf_reset(mr_buf *b) { b->len = 0; }

void mr_buf_free(mr_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *mr_buf_strdup(const mr_buf *b)
{
    char *s = malloc(b->len + 1);
    if (!s) {
        fputs("mailrig: out of memory\n", stderr);
        abort();
    }
    if (b->len)
        memcpy(s, b->data, b->len);
    s[b->len] = 0;
    return s;
}
