/*
 * fuzz_scenario.c - the scenario file reader of the fake servers
 * (fake-servers/mr_scenario.h, docs/scenarios.md).
 *
 * Input: a scenario file as it is, with no header, so that the corpus is
 * a folder of readable .scn files (corpora/fuzz/fuzz_scenario/ holds the
 * cases of tests/data/scenario/).  It is read with small limits, so that
 * random inputs reach each of them, then:
 *
 * 1. Reading either succeeds, or fails with a line within the input, a
 *    column >= 1 and a non-empty message, leaving the scenario empty.
 * 2. What was read is consistent: the required metadata is there; every
 *    rule, action and expectation is on a line of the input, in order;
 *    steps within the limit; templates have non-empty literal parts and
 *    no two literals in a row; split offsets are above 0 and increasing;
 *    groups within the rule's match; patterns compiled and usable.
 * 3. mr_scenario_free() releases everything (LeakSanitizer checks).
 */
#include <stdlib.h>
#include <string.h>

#include "mr_fuzz.h"
#include "mr_scenario.h"

#define FUZZ_MAX_STEPS 200
#define FUZZ_MAX_REGEX 128

static size_t line_count(const uint8_t *data, size_t len)
{
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    return lines;
}

static void check_tmpl(const mr_sc_tmpl *t, const mr_sc_rule *r, unsigned line)
{
    MR_FUZZ_CHECK(t->nparts == 0 || t->parts != NULL, "line %u: parts missing", line);
    for (size_t i = 0; i < t->nparts; i++) {
        const mr_sc_part *p = &t->parts[i];
        switch (p->kind) {
        case MR_SUB_LIT:
            MR_FUZZ_CHECK(p->len > 0 && p->bytes != NULL, "line %u: an empty literal part", line);
            MR_FUZZ_CHECK(i == 0 || t->parts[i - 1].kind != MR_SUB_LIT,
                          "line %u: two literal parts in a row", line);
            mr_fuzz_touch(p->bytes, p->len);
            break;
        case MR_SUB_GROUP:
            MR_FUZZ_CHECK(r->has_match && p->num >= 1 && p->num <= 9 &&
                              p->num <= r->match.re_nsub,
                          "line %u: group %u out of the match's range", line, p->num);
            break;
        case MR_SUB_VAR:
            MR_FUZZ_CHECK(p->name && p->name[0], "line %u: a variable without a name", line);
            break;
        case MR_SUB_MSG:
        case MR_SUB_SIZE:
            MR_FUZZ_CHECK(p->num >= 1, "line %u: message number 0", line);
            break;
        default:
            MR_FUZZ_CHECK(p->kind <= MR_SUB_SIZE, "line %u: part kind %d", line, (int)p->kind);
        }
    }
}

/* A compiled pattern must run (on a short string: no time to lose). */
static void try_regex(const regex_t *re)
{
    static const char *const lines[] = {"A1 LOGIN user password", "", "RETR 1"};
    regmatch_t m[10];
    for (size_t i = 0; i < 3; i++)
        (void)regexec(re, lines[i], 10, m, 0);
}

static void check_scenario(const mr_scenario *s, size_t lines)
{
    unsigned last = 0;
    size_t steps = 0;
    MR_FUZZ_CHECK(s->name && s->name[0], "no name");
    MR_FUZZ_CHECK(s->protocol && (!strcmp(s->protocol, "pop3") || !strcmp(s->protocol, "imap") ||
                                  !strcmp(s->protocol, "smtp")),
                  "bad protocol");
    for (size_t i = 0; i < s->nrules; i++) {
        const mr_sc_rule *r = &s->rules[i];
        steps += 1 + r->nacts;
        MR_FUZZ_CHECK(r->line >= 1 && r->line <= lines && r->line > last && r->col == 1,
                      "rule %zu at %u:%u", i, r->line, r->col);
        last = r->line;
        MR_FUZZ_CHECK((r->trigger == MR_ON_COMMAND) == (r->command != NULL),
                      "rule on line %u: command and trigger disagree", r->line);
        MR_FUZZ_CHECK(!r->save || r->has_match, "rule on line %u: save without match", r->line);
        MR_FUZZ_CHECK(r->chance >= 0 && r->chance <= 1, "rule on line %u: chance %g", r->line,
                      r->chance);
        MR_FUZZ_CHECK(r->nacts >= 1, "rule on line %u without actions", r->line);
        if (r->has_match) {
            MR_FUZZ_CHECK(r->match_src && strlen(r->match_src) <= FUZZ_MAX_REGEX,
                          "rule on line %u: pattern text", r->line);
            try_regex(&r->match);
        }
        for (size_t j = 0; j < r->nacts; j++) {
            const mr_sc_action *a = &r->acts[j];
            MR_FUZZ_CHECK(a->line > last && a->line <= lines && a->col > 1,
                          "action %zu of the rule on line %u at %u:%u", j, r->line, a->line,
                          a->col);
            last = a->line;
            MR_FUZZ_CHECK(a->kind <= MR_ACT_TLS_ALERT, "action kind %d", (int)a->kind);
            check_tmpl(&a->text, r, a->line);
            if (a->kind == MR_ACT_SEND || a->kind == MR_ACT_REPEAT)
                MR_FUZZ_CHECK(a->text.nparts > 0, "line %u: nothing to send", a->line);
            else if (a->kind != MR_ACT_ERROR)
                MR_FUZZ_CHECK(a->text.nparts == 0, "line %u: a text on %s", a->line,
                              mr_sc_act_name(a->kind));
            MR_FUZZ_CHECK(a->nsplit <= 1000, "line %u: %zu split offsets", a->line, a->nsplit);
            for (size_t k = 0; k < a->nsplit; k++)
                MR_FUZZ_CHECK(a->split[k] > 0 && (k == 0 || a->split[k] > a->split[k - 1]),
                              "line %u: split offsets not increasing", a->line);
        }
    }
    last = 0;
    for (size_t i = 0; i < s->nexpects; i++) {
        const mr_sc_expect *e = &s->expects[i];
        steps++;
        MR_FUZZ_CHECK(e->line >= 1 && e->line <= lines && e->line > last && e->col == 1,
                      "expectation %zu at %u:%u", i, e->line, e->col);
        last = e->line;
        MR_FUZZ_CHECK(e->text && strncmp(e->text, "expect", 6) == 0, "line %u: text", e->line);
        MR_FUZZ_CHECK(strcmp(mr_sc_expect_name(e->kind), "?") != 0, "line %u: kind", e->line);
        if (e->kind == MR_EX_CLOSE_WITHIN)
            MR_FUZZ_CHECK(e->npats == 0 && e->ms >= 1, "line %u: close-within", e->line);
        else if (e->kind == MR_EX_OUTPUT || e->kind == MR_EX_NO_OUTPUT)
            MR_FUZZ_CHECK(e->npats == 1 && e->pats[0].has_re, "line %u: output", e->line);
        else if (mr_sc_expect_is_client(e->kind))
            MR_FUZZ_CHECK(e->npats == 0 &&
                              ((e->kind == MR_EX_MESSAGES || e->kind == MR_EX_FLAG ||
                                e->kind == MR_EX_NO_FLAG) == (e->folder != NULL)) &&
                              ((e->kind == MR_EX_FLAG || e->kind == MR_EX_NO_FLAG) ==
                               (e->flag != NULL && e->n >= 1)),
                          "line %u: %s", e->line, mr_sc_expect_name(e->kind));
        else
            MR_FUZZ_CHECK(e->npats >= (e->kind == MR_EX_ORDER ? 2u : 1u) &&
                              (e->kind == MR_EX_ORDER || e->npats == 1),
                          "line %u: %zu patterns", e->line, e->npats);
        for (size_t j = 0; j < e->npats; j++) {
            const mr_sc_pattern *p = &e->pats[j];
            MR_FUZZ_CHECK((p->command != NULL) != (p->has_re != 0) && p->src,
                          "line %u: pattern %zu is neither a verb nor a regex", e->line, j);
            if (p->has_re)
                try_regex(&p->re);
        }
    }
    MR_FUZZ_CHECK(steps <= FUZZ_MAX_STEPS, "%zu steps", steps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mr_scenario_limits lim = {1 << 16, 512, FUZZ_MAX_STEPS, FUZZ_MAX_REGEX};
    mr_scenario s;
    mr_scenario_error e;
    size_t lines = line_count(data, size);

    if (mr_scenario_read(data, size, "fuzz.scn", &lim, &s, &e) != 0) {
        MR_FUZZ_CHECK(memchr(e.message, 0, sizeof e.message) != NULL, "message not terminated");
        MR_FUZZ_CHECK(e.message[0] != 0, "an error without a message");
        MR_FUZZ_CHECK(e.line >= 1 && (e.line <= lines || size > lim.max_file),
                      "error at line %u of %zu", e.line, lines);
        MR_FUZZ_CHECK(e.col >= 1, "error at column %u", e.col);
        MR_FUZZ_CHECK(s.nrules == 0 && s.nexpects == 0 && !s.name && !s.file,
                      "a failed read left something behind");
        return 0;
    }
    MR_FUZZ_CHECK(s.file && strcmp(s.file, "fuzz.scn") == 0, "file name");
    check_scenario(&s, lines);
    mr_scenario_free(&s);
    MR_FUZZ_CHECK(s.nrules == 0 && !s.rules && !s.name, "free did not empty the scenario");
    return 0;
}
