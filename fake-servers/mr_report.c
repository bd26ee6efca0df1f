/*
 * mr_report.c - the fake server's report over every session it served
 * (`mailrig serve --report json|junit|tap`): one JSON document, JUnit
 * XML (one testcase per session, one failure per failed expectation), or
 * TAP version 13 (one test point per session, YAML diagnostics).  Built
 * from the per-session results mr_engine.c keeps.
 */
#include "mr_server_int.h"

#include <jansson.h>
#include <string.h>

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                fputc('?', f);
            else
                fputc(*s, f);
        }
    }
}

static const char *sget(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

static json_t *load_results(const mr_server *srv)
{
    json_t *a = json_array();
    const mr_buf *b = &srv->results;
    size_t i = 0;
    while (i < b->len) {
        const uint8_t *nl = memchr(b->data + i, '\n', b->len - i);
        size_t end = nl ? (size_t)(nl - b->data) : b->len;
        json_t *o = json_loadb((const char *)b->data + i, end - i, 0, NULL);
        if (o)
            json_array_append_new(a, o);
        i = end + 1;
    }
    return a;
}

int mr_report_write(const mr_server *srv, const char *format, FILE *f)
{
    json_t *results = load_results(srv);
    const char *scn = srv->have_sc ? srv->sc.name : "default";
    size_t n = json_array_size(results), failed = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(sget(json_array_get(results, i), "verdict"), "passed") != 0)
            failed++;
    int rc = 0;
    if (strcmp(format, "json") == 0) {
        json_t *doc = json_pack("{s:s,s:s,s:i,s:i,s:i,s:O}", "protocol", srv->proto->name,
                                "scenario", scn, "sessions", (int)n, "passed", (int)(n - failed),
                                "failed", (int)failed, "results", results);
        rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        fputc('\n', f);
        json_decref(doc);
    } else if (strcmp(format, "junit") == 0) {
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n", f);
        fprintf(f, "  <testsuite name=\"mailrig.%s.", srv->proto->name);
        xml_text(f, scn);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\">\n", n, failed);
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_array_get(results, i);
            fprintf(f, "    <testcase classname=\"mailrig.%s.", srv->proto->name);
            xml_text(f, scn);
            fprintf(f, "\" name=\"session-%04d\" time=\"%.3f\">\n",
                    (int)json_integer_value(json_object_get(r, "session")),
                    json_real_value(json_object_get(r, "duration")));
            json_t *ex = json_object_get(r, "expectations");
            for (size_t k = 0; k < json_array_size(ex); k++) {
                json_t *e = json_array_get(ex, k);
                if (json_is_true(json_object_get(e, "passed")))
                    continue;
                fputs("      <failure message=\"", f);
                xml_text(f, sget(e, "expect"));
                fputs("\">", f);
                fprintf(f, "line %d: ", (int)json_integer_value(json_object_get(e, "line")));
                xml_text(f, sget(e, "detail"));
                fputs("</failure>\n", f);
            }
            if (strcmp(sget(r, "end"), "error") == 0)
                fputs("      <failure message=\"the session ended with an error\"/>\n", f);
            fputs("      <system-out>end: ", f);
            xml_text(f, sget(r, "end"));
            fputs("\ntranscript: ", f);
            xml_text(f, sget(r, "transcript"));
            fputs("\nresult: ", f);
            xml_text(f, sget(r, "result"));
            fputs("</system-out>\n    </testcase>\n", f);
        }
        fputs("  </testsuite>\n</testsuites>\n", f);
    } else if (strcmp(format, "tap") == 0) {
        fprintf(f, "TAP version 13\n1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
            json_t *r = json_array_get(results, i);
            int ok = strcmp(sget(r, "verdict"), "passed") == 0;
            fprintf(f, "%s %zu - %s session %d (%s)\n", ok ? "ok" : "not ok", i + 1, scn,
                    (int)json_integer_value(json_object_get(r, "session")), sget(r, "end"));
            fputs("  ---\n", f);
            json_t *ex = json_object_get(r, "expectations");
            if (json_array_size(ex))
                fputs("  expectations:\n", f);
            for (size_t k = 0; k < json_array_size(ex); k++) {
                json_t *e = json_array_get(ex, k);
                char *q = json_dumps(json_object_get(e, "expect"), JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
                char *d = json_dumps(json_object_get(e, "detail"), JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
                fprintf(f, "    - expect: %s\n      passed: %s\n      detail: %s\n", q ? q : "\"\"",
                        json_is_true(json_object_get(e, "passed")) ? "true" : "false", d ? d : "null");
                free(q);
                free(d);
            }
            char *t = json_dumps(json_object_get(r, "transcript"), JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
            fprintf(f, "  transcript: %s\n  ...\n", t ? t : "null");
            free(t);
        }
    } else {
        rc = -1;
    }
    json_decref(results);
    return rc;
}
