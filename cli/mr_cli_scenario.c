/*
 * mr_cli_scenario.c - "mailrig scenario check [--json] FILE...": read each
 * scenario file (docs/scenarios.md) with the fake servers' reader
 * (fake-servers/mr_scenario.h) and say "FILE: ok (N rules, M
 * expectations)", or print the reader's "FILE:LINE:COL: message" on
 * stderr.  With --json, one JSON object per file that read, describing
 * what was read (its schema is in docs/scenarios.md, "Checking a
 * scenario"); the .json files of tests/data/scenario/ok/ are such objects.
 *
 * Exit status: 0 when every file read, 1 when one did not, 2 for bad
 * usage or no memory.
 */
#include "mr_cli_scenario.h"

#include <jansson.h>
#include <string.h>

#include "mr_cli_parse.h"
#include "mr_json.h"
#include "mr_scenario.h"

static void usage(FILE *f)
{
    fputs("usage: mailrig scenario check [--json] FILE...\n"
          "\n"
          "Read scenario files (docs/scenarios.md), the scripts of the fake\n"
          "servers, and report each: \"FILE: ok (N rules, M expectations)\" on\n"
          "stdout, or \"FILE:LINE:COL: message\" on stderr.\n"
          "\n"
          "options:\n"
          "  --json      print what was read, one JSON object per file, instead\n"
          "              of the ok line\n"
          "  -h, --help  show this help\n"
          "\n"
          "Exit status: 0 when every file is a valid scenario, 1 when one is not,\n"
          "2 for bad usage.\n",
          f);
}

static json_t *str_or_null(const char *s)
{
    return s ? mr_json_bytes((const uint8_t *)s, strlen(s)) : json_null();
}

static const char *phase_name(mr_sc_phase p)
{
    return p == MR_PHASE_PLAINTEXT ? "plaintext" : p == MR_PHASE_TLS ? "tls" : "any";
}

/* A template: [{"lit": "bytes"} | {"sub": "tag"} | {"sub": "group", "num": 1}
 * | {"sub": "var", "name": "who"} | {"sub": "msg", "num": 2} ...]. */
static json_t *tmpl_json(const mr_sc_tmpl *t)
{
    static const char *const subs[] = {"lit",  "tag",  "cmd",   "args", "group", "var",
                                       "user", "host", "count", "msg",  "size"};
    json_t *a = json_array();
    int ok = a != NULL;
    for (size_t i = 0; i < t->nparts; i++) {
        const mr_sc_part *p = &t->parts[i];
        json_t *o = json_object();
        ok &= o != NULL;
        if (p->kind == MR_SUB_LIT) {
            mr_json_put(o, "lit", mr_json_bytes(p->bytes, p->len), &ok);
        } else {
            mr_json_put(o, "sub", json_string((unsigned)p->kind < 11 ? subs[p->kind] : "?"), &ok);
            if (p->kind == MR_SUB_GROUP || p->kind == MR_SUB_MSG || p->kind == MR_SUB_SIZE)
                mr_json_put(o, "num", json_integer(p->num), &ok);
            if (p->kind == MR_SUB_VAR)
                mr_json_put(o, "name", str_or_null(p->name), &ok);
        }
        mr_json_push(a, mr_json_finish(o, ok), &ok);
    }
    return mr_json_finish(a, ok);
}

static json_t *action_json(const mr_sc_action *act)
{
    json_t *o = json_object();
    int ok = o != NULL;
    mr_json_put(o, "line", json_integer(act->line), &ok);
    mr_json_put(o, "col", json_integer(act->col), &ok);
    mr_json_put(o, "kind", json_string(mr_sc_act_name(act->kind)), &ok);
    switch (act->kind) {
    case MR_ACT_SEND: {
        json_t *split = json_array();
        ok &= split != NULL;
        for (size_t i = 0; i < act->nsplit; i++)
            mr_json_push(split, json_integer((json_int_t)act->split[i]), &ok);
        mr_json_put(o, "text", tmpl_json(&act->text), &ok);
        mr_json_put(o, "split", split, &ok);
        mr_json_put(o, "drip", act->has_drip ? json_integer(act->drip_ms) : json_null(), &ok);
        mr_json_put(o, "join", json_boolean(act->join), &ok);
        break;
    }
    case MR_ACT_REPEAT:
        mr_json_put(o, "count",
                    act->count == UINT64_MAX ? json_string("forever")
                                             : json_integer((json_int_t)act->count),
                    &ok);
        mr_json_put(o, "text", tmpl_json(&act->text), &ok);
        break;
    case MR_ACT_ERROR:
        mr_json_put(o, "text", tmpl_json(&act->text), &ok);
        /* fall through */
    case MR_ACT_DEFAULT:
        mr_json_put(o, "join", json_boolean(act->join), &ok);
        break;
    case MR_ACT_DELAY:
        mr_json_put(o, "ms", json_integer(act->ms), &ok);
        break;
    default:
        break;
    }
    return mr_json_finish(o, ok);
}

static json_t *rule_json(const mr_sc_rule *r)
{
    static const char *const triggers[] = {"greeting", "command", "tls"};
    json_t *o = json_object(), *acts = json_array();
    int ok = o != NULL && acts != NULL;
    mr_json_put(o, "line", json_integer(r->line), &ok);
    mr_json_put(o, "col", json_integer(r->col), &ok);
    mr_json_put(o, "trigger", json_string((unsigned)r->trigger < 3 ? triggers[r->trigger] : "?"),
                &ok);
    mr_json_put(o, "command", str_or_null(r->command), &ok);
    mr_json_put(o, "nth", json_integer(r->nth), &ok);
    mr_json_put(o, "times", json_integer(r->times), &ok);
    mr_json_put(o, "match", r->has_match ? str_or_null(r->match_src) : json_null(), &ok);
    mr_json_put(o, "groups", json_integer(r->has_match ? (json_int_t)r->match.re_nsub : 0), &ok);
    mr_json_put(o, "chance", r->chance > 0 ? json_real(r->chance) : json_null(), &ok);
    mr_json_put(o, "phase", json_string(phase_name(r->phase)), &ok);
    mr_json_put(o, "save", str_or_null(r->save), &ok);
    for (size_t i = 0; i < r->nacts; i++)
        mr_json_push(acts, action_json(&r->acts[i]), &ok);
    mr_json_put(o, "actions", acts, &ok);
    return mr_json_finish(o, ok);
}

static json_t *expect_json(const mr_sc_expect *e)
{
    json_t *o = json_object(), *pats = json_array();
    int ok = o != NULL && pats != NULL;
    mr_json_put(o, "line", json_integer(e->line), &ok);
    mr_json_put(o, "col", json_integer(e->col), &ok);
    mr_json_put(o, "kind", json_string(mr_sc_expect_name(e->kind)), &ok);
    mr_json_put(o, "text", str_or_null(e->text), &ok);
    for (size_t i = 0; i < e->npats; i++) {
        const mr_sc_pattern *p = &e->pats[i];
        json_t *po = json_object();
        int pok = po != NULL;
        if (p->has_re)
            mr_json_put(po, "regex", str_or_null(p->src), &pok);
        else
            mr_json_put(po, "command", str_or_null(p->command), &pok);
        mr_json_push(pats, mr_json_finish(po, pok), &ok);
    }
    mr_json_put(o, "patterns", pats, &ok);
    if (e->kind == MR_EX_SEND || e->kind == MR_EX_NO_SEND)
        mr_json_put(o, "phase", json_string(phase_name(e->phase)), &ok);
    if (e->kind == MR_EX_CLOSE_WITHIN)
        mr_json_put(o, "ms", json_integer(e->ms), &ok);
    if (e->kind == MR_EX_EXIT)
        mr_json_put(o, "outcome", json_string(e->success ? "success" : "failure"), &ok);
    if (e->kind == MR_EX_MEMORY_BELOW)
        mr_json_put(o, "bytes", json_integer((json_int_t)e->n), &ok);
    if (e->kind == MR_EX_MESSAGES || e->kind == MR_EX_FLAG || e->kind == MR_EX_NO_FLAG)
        mr_json_put(o, "folder", str_or_null(e->folder), &ok);
    if (e->kind == MR_EX_MESSAGES || e->kind == MR_EX_SUBMITTED)
        mr_json_put(o, "count", json_integer((json_int_t)e->n), &ok);
    if (e->kind == MR_EX_FLAG || e->kind == MR_EX_NO_FLAG) {
        mr_json_put(o, "uid", json_integer((json_int_t)e->n), &ok);
        mr_json_put(o, "flag", str_or_null(e->flag), &ok);
    }
    return mr_json_finish(o, ok);
}

static json_t *scenario_json(const mr_scenario *s)
{
    json_t *o = json_object(), *rules = json_array(), *exps = json_array();
    int ok = o != NULL && rules != NULL && exps != NULL;
    char seed[24];
    mr_json_put(o, "file", str_or_null(s->file), &ok);
    mr_json_put(o, "name", str_or_null(s->name), &ok);
    mr_json_put(o, "protocol", str_or_null(s->protocol), &ok);
    mr_json_put(o, "description", str_or_null(s->description), &ok);
    mr_json_put(o, "rfc", str_or_null(s->rfc), &ok);
    mr_json_put(o, "tags", str_or_null(s->tags), &ok);
    mr_json_put(o, "tls", str_or_null(s->tls), &ok);
    mr_json_put(o, "cert", str_or_null(s->cert), &ok);
    mr_json_put(o, "user", str_or_null(s->user), &ok);
    mr_json_put(o, "password", str_or_null(s->password), &ok);
    mr_json_put(o, "mailbox", str_or_null(s->mailbox), &ok);
    /* a u64 does not fit JSON's safe integers: a string of digits */
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    mr_json_put(o, "seed", json_string(seed), &ok);
    mr_json_put(o, "timeout", json_integer(s->timeout_ms), &ok);
    mr_json_put(o, "needs", str_or_null(s->needs), &ok);
    mr_json_put(o, "runs", json_integer(s->runs), &ok);
    mr_json_put(o, "client_timeout", json_integer(s->client_timeout_ms), &ok);
    for (size_t i = 0; i < s->nrules; i++)
        mr_json_push(rules, rule_json(&s->rules[i]), &ok);
    mr_json_put(o, "rules", rules, &ok);
    for (size_t i = 0; i < s->nexpects; i++)
        mr_json_push(exps, expect_json(&s->expects[i]), &ok);
    mr_json_put(o, "expectations", exps, &ok);
    return mr_json_finish(o, ok);
}

/* Check one file: 0 ok, 1 bad, 2 no memory. */
static int check_file(const char *path, int json, FILE *out, FILE *err)
{
    mr_scenario s;
    char msg[sizeof(((mr_scenario_error *)0)->message) + 4200];
    if (mr_scenario_load(path, NULL, &s, msg, sizeof msg) != 0) {
        fprintf(err, "%s\n", msg);
        return 1;
    }
    if (json) {
        json_t *o = scenario_json(&s);
        int rc = 0;
        if (!o || json_dumpf(o, out, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(12)) != 0) {
            fprintf(err, "mailrig scenario: %s: out of memory\n", path);
            rc = 2;
        } else {
            fputc('\n', out);
        }
        json_decref(o);
        mr_scenario_free(&s);
        return rc;
    }
    fprintf(out, "%s: ok (%zu rule%s, %zu expectation%s)\n", path, s.nrules,
            s.nrules == 1 ? "" : "s", s.nexpects, s.nexpects == 1 ? "" : "s");
    mr_scenario_free(&s);
    return 0;
}

int mr_cli_scenario_main(int argc, char **argv, FILE *out, FILE *err)
{
    int json = 0, status = MR_CLI_EXIT_OK, i = 1, files = 0;
    if (argc < 1) {
        usage(err);
        return MR_CLI_EXIT_USAGE;
    }
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
        strcmp(argv[0], "help") == 0) {
        usage(out);
        return MR_CLI_EXIT_OK;
    }
    if (strcmp(argv[0], "check") != 0) {
        fprintf(err, "mailrig scenario: unknown subcommand '%s' (see mailrig scenario --help)\n",
                argv[0]);
        return MR_CLI_EXIT_USAGE;
    }
    for (; i < argc; i++) { /* options first; "--" ends them */
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--json") == 0) {
            json = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(out);
            return MR_CLI_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(err, "mailrig scenario: unknown option '%s' (see mailrig scenario --help)\n",
                    argv[i]);
            return MR_CLI_EXIT_USAGE;
        } else {
            break;
        }
    }
    for (; i < argc; i++) {
        int rc = check_file(argv[i], json, out, err);
        files++;
        if (rc == 2)
            return MR_CLI_EXIT_USAGE;
        if (rc != 0)
            status = MR_CLI_EXIT_FAILED;
    }
    if (files == 0) {
        fputs("mailrig scenario check: no FILE given\n", err);
        usage(err);
        return MR_CLI_EXIT_USAGE;
    }
    return status;
}
