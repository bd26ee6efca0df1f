/*
 * mr_engine.c - the scenario engine of the fake servers: for each client
 * command, find the scenario rule that fires (verb, pattern, phase, nth,
 * times, chance), run its actions into the session's output queue
 * (templates filled in with the tag, captured groups, saved variables,
 * message data), or else let the protocol module answer; watch what the
 * client sends for the scenario's expectations; and at the end of the
 * session write its verdict, transcript and mailbox (docs/scenarios.md,
 * docs/fake-servers.md).
 */
#define _GNU_SOURCE
#include "mr_server_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ helpers */

static int name_eq(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

static int sc_regmatch(const regex_t *re, const uint8_t *p, size_t n, regmatch_t *m, size_t nm)
{
    regmatch_t local[1];
    if (!m) {
        m = local;
        nm = 1;
    }
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    /* REG_STARTEND: the line may hold NUL bytes and has no terminator. */
    return regexec(re, (const char *)p, nm, m, REG_STARTEND) == 0;
}

/* The command's line with a NUL after it: regexec reads up to a NUL
 * whatever REG_STARTEND says under some libcs and sanitizers, and the
 * line in the input buffer has none.  Made once per command. */
static const uint8_t *line0(mr_sess *s, const mr_cmd *cmd)
{
    if (!s->have_line0) {
        mr_buf_reset(&s->line0);
        mr_buf_add(&s->line0, cmd->line, cmd->line_len);
        mr_buf_addc(&s->line0, 0);
        s->have_line0 = 1;
    }
    return s->line0.data;
}

static int pattern_match(mr_sess *s, const mr_sc_pattern *pat, const mr_cmd *cmd)
{
    if (pat->command)
        return cmd->name && name_eq(pat->command, cmd->name);
    if (pat->has_re)
        return sc_regmatch(&pat->re, line0(s, cmd), cmd->line_len, NULL, 0);
    return 0;
}

static int phase_ok(mr_sc_phase ph, const mr_sess *s)
{
    return ph == MR_PHASE_ANY || (ph == MR_PHASE_TLS) == (s->tls_active != 0);
}

/* Printable form of a client line, for details. */
static void show(char *out, size_t outlen, const uint8_t *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < outlen; i++) {
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out[o++] = (char)c;
        } else {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        }
        if (i == 80 && n > 90) {
            o += (size_t)snprintf(out + o, outlen - o, "...");
            break;
        }
    }
    out[o < outlen ? o : outlen - 1] = 0;
}

/* splitmix64: the chance of a rule, from the scenario's seed, the
 * session, the rule and the count, so that a run repeats exactly. */
static double chance_value(uint64_t seed, unsigned sess, size_t rule, unsigned n)
{
    uint64_t z = seed ^ (0x9e3779b97f4a7c15ull * (sess + 1)) ^ (0xbf58476d1ce4e5b9ull * (rule + 1)) ^
                 (0x94d049bb133111ebull * n);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------ session state */

int mr_engine_init_session(mr_sess *s)
{
    mr_server *srv = s->srv;
    if (!srv->have_sc)
        return 0;
    const mr_scenario *sc = &srv->sc;
    s->rule_seen = calloc(sc->nrules + 1, sizeof *s->rule_seen);
    s->rule_fired = calloc(sc->nrules + 1, sizeof *s->rule_fired);
    s->ex = calloc(sc->nexpects + 1, sizeof *s->ex);
    if (!s->rule_seen || !s->rule_fired || !s->ex)
        abort();
    for (size_t i = 0; i < sc->nexpects; i++) {
        const mr_sc_expect *e = &sc->expects[i];
        mr_exstate *x = &s->ex[i];
        x->passed = e->kind == MR_EX_NO_SEND || e->kind == MR_EX_SILENT_AFTER;
        if (e->kind == MR_EX_ORDER) {
            x->first = calloc(e->npats, sizeof *x->first);
            if (!x->first)
                abort();
        }
    }
    return 0;
}

void mr_engine_free_session(mr_sess *s)
{
    if (s->ex && s->srv->have_sc)
        for (size_t i = 0; i < s->srv->sc.nexpects; i++)
            free(s->ex[i].first);
    free(s->ex);
    free(s->rule_seen);
    free(s->rule_fired);
    for (size_t i = 0; i < s->nvars; i++) {
        free(s->vars[i].name);
        free(s->vars[i].value);
    }
    free(s->vars);
    s->ex = NULL;
    s->rule_seen = s->rule_fired = NULL;
    s->vars = NULL;
}

static void set_var(mr_sess *s, const char *name, const uint8_t *p, size_t n)
{
    mr_var *v = NULL;
    for (size_t i = 0; i < s->nvars; i++)
        if (strcmp(s->vars[i].name, name) == 0)
            v = &s->vars[i];
    if (!v) {
        mr_var *vs = realloc(s->vars, (s->nvars + 1) * sizeof *vs);
        if (!vs)
            abort();
        s->vars = vs;
        v = &s->vars[s->nvars++];
        v->name = strdup(name);
        v->value = NULL;
    }
    free(v->value);
    v->value = malloc(n + 1);
    if (!v->value || !v->name)
        abort();
    memcpy(v->value, p, n);
    v->value[n] = 0;
    v->len = n;
}

/* A rule's trigger happened (its verb, phase and pattern matched): count
 * it, and say whether the rule fires now by its nth, times and chance. */
static int rule_fires(mr_sess *s, size_t i, const mr_sc_rule *r)
{
    s->rule_seen[i]++;
    if (r->nth && s->rule_seen[i] != r->nth)
        return 0;
    if (r->times && s->rule_fired[i] >= r->times)
        return 0;
    if (r->chance > 0 && chance_value(s->srv->sc.seed, s->id, i, s->rule_seen[i]) >= r->chance)
        return 0;
    s->rule_fired[i]++;
    return 1;
}

/* ------------------------------------------------------------ templates */

static mr_msg *inbox_msg(mr_sess *s, unsigned n)
{
    mr_mailbox *mb = mr_sess_mailbox(s);
    mr_folder *f = mr_mailbox_find(mb, "INBOX");
    if (!f || n == 0 || n > f->count)
        return NULL;
    return f->msgs[n - 1];
}

static void expand(mr_sess *s, const mr_sc_tmpl *t, mr_buf *out)
{
    const mr_cmd *c = s->cmd;
    const mr_fake_config *cfg = &s->srv->cfg;
    for (size_t i = 0; i < t->nparts; i++) {
        const mr_sc_part *p = &t->parts[i];
        switch (p->kind) {
        case MR_SUB_LIT:
            mr_buf_add(out, p->bytes, p->len);
            break;
        case MR_SUB_TAG:
            if (c && c->tag)
                mr_buf_adds(out, c->tag);
            break;
        case MR_SUB_CMD:
            if (c && c->name)
                mr_buf_adds(out, c->name);
            break;
        case MR_SUB_ARGS:
            if (c && c->args)
                mr_buf_add(out, c->args, c->args_len);
            break;
        case MR_SUB_GROUP:
            if (c && p->num < 10 && s->groups[p->num].rm_so >= 0 && s->group_base)
                mr_buf_add(out, s->group_base + s->groups[p->num].rm_so,
                           (size_t)(s->groups[p->num].rm_eo - s->groups[p->num].rm_so));
            break;
        case MR_SUB_VAR:
            for (size_t v = 0; v < s->nvars; v++)
                if (p->name && strcmp(s->vars[v].name, p->name) == 0)
                    mr_buf_add(out, s->vars[v].value, s->vars[v].len);
            break;
        case MR_SUB_USER:
            mr_buf_adds(out, cfg->user);
            break;
        case MR_SUB_HOST:
            mr_buf_adds(out, cfg->hostname);
            break;
        case MR_SUB_COUNT: {
            mr_folder *f = mr_mailbox_find(mr_sess_mailbox(s), "INBOX");
            mr_buf_printf(out, "%zu", f ? f->count : (size_t)0);
            break;
        }
        case MR_SUB_MSG: {
            mr_msg *m = inbox_msg(s, p->num);
            if (m)
                mr_buf_add(out, m->d->data, m->d->len);
            break;
        }
        case MR_SUB_SIZE: {
            mr_msg *m = inbox_msg(s, p->num);
            mr_buf_printf(out, "%zu", m ? m->d->len : (size_t)0);
            break;
        }
        }
    }
}

/* ------------------------------------------------------------ actions */

static void greeting_error(mr_sess *s, const char *text)
{
    const char *proto = s->srv->proto->name;
    if (strcmp(proto, "imap") == 0)
        mr_sess_sendf(s, "* BYE %s\r\n", text);
    else if (strcmp(proto, "pop3") == 0)
        mr_sess_sendf(s, "-ERR %s\r\n", text);
    else
        mr_sess_sendf(s, "554 %s\r\n", text); /* RFC 5321 3.1 */
}

static void run_actions(mr_sess *s, const mr_sc_rule *r)
{
    mr_server *srv = s->srv;
    mr_buf tmp = MR_BUF_INIT;
    for (size_t i = 0; i < r->nacts; i++) {
        const mr_sc_action *a = &r->acts[i];
        switch (a->kind) {
        case MR_ACT_SEND:
            mr_buf_reset(&tmp);
            expand(s, &a->text, &tmp);
            if (a->has_drip) {
                mr_sess_push_write(s, tmp.data, tmp.len, a->drip_ms);
            } else if (a->nsplit) {
                size_t from = 0;
                mr_sess_flush(s);
                for (size_t k = 0; k < a->nsplit && a->split[k] < tmp.len; k++) {
                    mr_sess_push_write(s, tmp.data + from, a->split[k] - from, 0);
                    from = a->split[k];
                }
                mr_buf_add(&s->cur, tmp.data + from, tmp.len - from);
            } else {
                if (!a->join)
                    mr_sess_flush(s);
                mr_buf_add(&s->cur, tmp.data, tmp.len);
            }
            break;
        case MR_ACT_REPEAT: {
            mr_buf_reset(&tmp);
            expand(s, &a->text, &tmp);
            mr_sess_push(s, MR_OP_REPEAT);
            mr_op *op = s->qtail;
            mr_buf_add(&op->data, tmp.data, tmp.len);
            op->left = a->count;
            break;
        }
        case MR_ACT_DEFAULT:
            if (!a->join)
                mr_sess_flush(s);
            if (r->trigger == MR_ON_GREETING)
                srv->proto->greeting(s, s->st);
            else if (r->trigger == MR_ON_COMMAND && s->cmd)
                srv->proto->execute(s, s->st, s->cmd);
            break;
        case MR_ACT_ERROR: {
            if (!a->join)
                mr_sess_flush(s);
            mr_buf_reset(&tmp);
            expand(s, &a->text, &tmp);
            char *text = tmp.len ? mr_buf_strdup(&tmp) : strdup("injected error");
            if (!text)
                abort();
            for (char *p = text; *p; p++)
                if (*p == '\r' || *p == '\n')
                    *p = ' ';
            if (r->trigger == MR_ON_COMMAND && s->cmd)
                srv->proto->error_reply(s, s->st, s->cmd, text);
            else
                greeting_error(s, text);
            free(text);
            break;
        }
        case MR_ACT_DELAY:
            mr_sess_push(s, MR_OP_DELAY);
            s->qtail->ms = a->ms;
            break;
        case MR_ACT_STALL: mr_sess_push(s, MR_OP_STALL); break;
        case MR_ACT_CLOSE: mr_sess_push(s, MR_OP_CLOSE); break;
        case MR_ACT_RESET: mr_sess_push(s, MR_OP_RESET); break;
        case MR_ACT_HALF_CLOSE: mr_sess_push(s, MR_OP_HALF_CLOSE); break;
        case MR_ACT_STARTTLS: mr_sess_push(s, MR_OP_STARTTLS); break;
        case MR_ACT_TLS_CLOSE: mr_sess_push(s, MR_OP_TLS_CLOSE); break;
        case MR_ACT_TLS_ALERT: mr_sess_push(s, MR_OP_TLS_ALERT); break;
        }
    }
    mr_sess_flush(s);
    mr_buf_free(&tmp);
}

void mr_engine_greeting(mr_sess *s)
{
    mr_server *srv = s->srv;
    s->greeted = 1;
    if (srv->have_sc)
        for (size_t i = 0; i < srv->sc.nrules; i++)
            if (srv->sc.rules[i].trigger == MR_ON_GREETING && rule_fires(s, i, &srv->sc.rules[i])) {
                mr_sess_trs_comment(s, "rule at line %u: greeting", srv->sc.rules[i].line);
                run_actions(s, &srv->sc.rules[i]);
                return;
            }
    srv->proto->greeting(s, s->st);
    mr_sess_flush(s);
}

void mr_engine_tls(mr_sess *s)
{
    mr_server *srv = s->srv;
    if (srv->have_sc)
        for (size_t i = 0; i < srv->sc.nrules; i++) {
            const mr_sc_rule *r = &srv->sc.rules[i];
            if (r->trigger != MR_ON_TLS || !rule_fires(s, i, r))
                continue;
            mr_sess_trs_comment(s, "rule at line %u: tls", r->line);
            run_actions(s, r);
            break;
        }
    /* Implicit TLS: the greeting comes once the handshake is done. */
    if (srv->cfg.tls == MR_TLS_IMPLICIT && !s->greeted)
        mr_engine_greeting(s);
}

/* ------------------------------------------------------------ expectations */

static void observe(mr_sess *s, const mr_cmd *cmd)
{
    mr_server *srv = s->srv;
    if (!srv->have_sc)
        return;
    char shown[200];
    for (size_t i = 0; i < srv->sc.nexpects; i++) {
        const mr_sc_expect *e = &srv->sc.expects[i];
        mr_exstate *x = &s->ex[i];
        switch (e->kind) {
        case MR_EX_SEND:
            if (!x->passed && phase_ok(e->phase, s) && pattern_match(s, &e->pats[0], cmd))
                x->passed = 1;
            break;
        case MR_EX_NO_SEND:
            if (x->passed && phase_ok(e->phase, s) && pattern_match(s, &e->pats[0], cmd)) {
                x->passed = 0;
                show(shown, sizeof shown, cmd->line, cmd->line_len);
                snprintf(x->detail, sizeof x->detail, "the client sent \"%s\" (command %lu%s)", shown,
                         s->ncmds, s->tls_active ? ", inside TLS" : ", in plaintext");
            }
            break;
        case MR_EX_ORDER:
            for (size_t k = 0; k < e->npats; k++)
                if (!x->first[k] && pattern_match(s, &e->pats[k], cmd))
                    x->first[k] = s->ncmds;
            break;
        case MR_EX_SILENT_AFTER:
            if (x->armed && x->passed) {
                x->passed = 0;
                show(shown, sizeof shown, cmd->line, cmd->line_len);
                snprintf(x->detail, sizeof x->detail, "the client sent \"%s\" (command %lu) after %s",
                         shown, s->ncmds, e->pats[0].src);
            } else if (!x->armed && pattern_match(s, &e->pats[0], cmd)) {
                x->armed = 1;
            }
            break;
        default: /* close-within: judged at the end; client kinds: by the runner */
            break;
        }
    }
}

void mr_engine_input_error(mr_sess *s, const mr_cmd *cmd)
{
    mr_cmd c = *cmd;
    s->have_line0 = 0;
    if (!c.name)
        c.name = "";
    if (!c.tag)
        c.tag = "";
    observe(s, &c);
}

void mr_engine_command(mr_sess *s, const mr_cmd *cmd)
{
    mr_server *srv = s->srv;
    s->cmd = cmd;
    s->have_line0 = 0;
    observe(s, cmd);
    if (srv->have_sc) {
        const mr_scenario *sc = &srv->sc;
        for (size_t i = 0; i < sc->nrules; i++) {
            const mr_sc_rule *r = &sc->rules[i];
            if (r->trigger != MR_ON_COMMAND)
                continue;
            if (strcmp(r->command, "*") != 0 && !name_eq(r->command, cmd->name))
                continue;
            if (!phase_ok(r->phase, s))
                continue;
            regmatch_t m[10];
            for (int k = 0; k < 10; k++)
                m[k].rm_so = m[k].rm_eo = -1;
            if (r->has_match && !sc_regmatch(&r->match, line0(s, cmd), cmd->line_len, m, 10))
                continue;
            if (!rule_fires(s, i, r))
                continue;
            memcpy(s->groups, m, sizeof m);
            s->group_base = cmd->line;
            if (r->save) {
                int g = (r->has_match && r->match.re_nsub >= 1 && m[1].rm_so >= 0) ? 1 : 0;
                if (m[g].rm_so >= 0)
                    set_var(s, r->save, cmd->line + m[g].rm_so, (size_t)(m[g].rm_eo - m[g].rm_so));
            }
            mr_sess_trs_comment(s, "rule at line %u: %s", r->line, r->command);
            run_actions(s, r);
            s->group_base = NULL;
            return;
        }
    }
    srv->proto->execute(s, s->st, cmd);
}

/* ------------------------------------------------------------ the end */

static void judge(mr_sess *s, json_t *list, int *all_passed)
{
    mr_server *srv = s->srv;
    double now = mr_sess_time(s);
    for (size_t i = 0; i < srv->sc.nexpects; i++) {
        const mr_sc_expect *e = &srv->sc.expects[i];
        mr_exstate *x = &s->ex[i];
        if (mr_sc_expect_is_client(e->kind))
            continue; /* judged by the runner (mailrig run), not here */
        switch (e->kind) {
        case MR_EX_SEND:
            if (!x->passed)
                snprintf(x->detail, sizeof x->detail, "the client never sent %s%s", e->pats[0].src,
                         e->phase == MR_PHASE_TLS ? " inside TLS"
                         : e->phase == MR_PHASE_PLAINTEXT ? " in plaintext" : "");
            break;
        case MR_EX_NO_SEND:
            break;
        case MR_EX_ORDER: {
            x->passed = 1;
            unsigned long prev = 0;
            for (size_t k = 0; k < e->npats && x->passed; k++) {
                if (!x->first[k]) {
                    x->passed = 0;
                    snprintf(x->detail, sizeof x->detail, "the client never sent %s", e->pats[k].src);
                } else if (x->first[k] <= prev) {
                    x->passed = 0;
                    snprintf(x->detail, sizeof x->detail,
                             "%s (command %lu) came before %s (command %lu)", e->pats[k].src,
                             x->first[k], e->pats[k - 1].src, prev);
                }
                prev = x->first[k];
            }
            break;
        }
        case MR_EX_CLOSE_WITHIN: {
            double waited = (now - s->last_write) * 1000;
            if ((s->end == MR_END_CLIENT_CLOSE || s->end == MR_END_CLIENT_RESET ||
                 s->end == MR_END_TLS_FAILED) && waited <= e->ms + 50) {
                x->passed = 1;
                snprintf(x->detail, sizeof x->detail, "closed %.0f ms after the server's last write", waited);
            } else if (s->end == MR_END_SERVER_CLOSE || s->end == MR_END_SERVER_RESET) {
                snprintf(x->detail, sizeof x->detail, "the server closed the connection first");
            } else if (s->end == MR_END_CLIENT_CLOSE || s->end == MR_END_CLIENT_RESET) {
                snprintf(x->detail, sizeof x->detail, "the client closed %.0f ms after the server's last write, not within %u ms",
                         waited, e->ms);
            } else {
                snprintf(x->detail, sizeof x->detail,
                         "the client did not close within %u ms of the server's last write (session ended: %s)",
                         e->ms, mr_end_name(s->end));
            }
            break;
        }
        default:
            break;
        case MR_EX_SILENT_AFTER:
            if (x->armed && x->passed && mr_sess_pending(s)) {
                x->passed = 0;
                snprintf(x->detail, sizeof x->detail, "the client sent %zu more bytes after %s",
                         mr_sess_pending(s), e->pats[0].src);
            }
            break;
        }
        if (!x->passed)
            *all_passed = 0;
        json_t *o = json_pack("{s:i,s:s,s:s,s:b}", "line", (int)e->line, "kind",
                              mr_sc_expect_name(e->kind), "expect", e->text ? e->text : "", "passed",
                              x->passed);
        json_object_set_new(o, "detail", x->detail[0] ? json_string(x->detail) : json_null());
        json_array_append_new(list, o);
    }
}

static json_t *lines_array(const mr_buf *b)
{
    json_t *a = json_array();
    size_t i = 0;
    while (i < b->len) {
        const uint8_t *nl = memchr(b->data + i, '\n', b->len - i);
        size_t end = nl ? (size_t)(nl - b->data) : b->len;
        json_array_append_new(a, mr_json_text((const char *)b->data + i, end - i));
        i = end + 1;
    }
    return a;
}

void mr_engine_finish(mr_sess *s)
{
    mr_server *srv = s->srv;
    int passed = s->end != MR_END_ERROR;
    json_t *ex = json_array();
    if (srv->have_sc)
        judge(s, ex, &passed);
    char trs_path[4200] = "", mb_path[4200] = "", res_path[4200] = "";
    if (srv->out[0]) {
        if (s->trs) {
            mr_sess_trs_path(s, trs_path, sizeof trs_path);
            if (mr_sess_trs_flush(s) != 0)
                trs_path[0] = 0;
        }
        if (s->mb) {
            snprintf(mb_path, sizeof mb_path, "%s/session-%04u.mailbox.json", srv->out, s->id);
            FILE *f = fopen(mb_path, "w");
            if (!f || mr_mailbox_write_json(s->mb, f) != 0)
                mb_path[0] = 0;
            if (f)
                fclose(f);
        }
        snprintf(res_path, sizeof res_path, "%s/session-%04u.json", srv->out, s->id);
    }
    json_t *r = json_object();
    json_object_set_new(r, "scenario", srv->have_sc ? json_string(srv->sc.name) : json_null());
    json_object_set_new(r, "scenario_file", srv->have_sc ? json_string(srv->sc.file) : json_null());
    json_object_set_new(r, "protocol", json_string(srv->proto->name));
    json_object_set_new(r, "session", json_integer(s->id));
    json_object_set_new(r, "client", json_string(s->peer));
    json_object_set_new(r, "verdict", json_string(passed ? "passed" : "failed"));
    json_object_set_new(r, "end", json_string(mr_end_name(s->end)));
    json_object_set_new(r, "duration", json_real(mr_sess_time(s)));
    json_t *tls = json_object();
    json_object_set_new(tls, "mode", json_string(mr_tls_mode_name(srv->cfg.tls)));
    json_object_set_new(tls, "established", json_boolean(s->tls_active));
    json_object_set_new(tls, "cert", srv->cfg.tls != MR_TLS_NONE
                                        ? json_string(mr_cert_profile_name(srv->profile)) : json_null());
    json_object_set_new(tls, "error", s->tls_error[0] ? json_string(s->tls_error) : json_null());
    json_object_set_new(r, "tls", tls);
    json_object_set_new(r, "user", s->user ? json_string(s->user) : json_null());
    json_object_set_new(r, "commands", json_integer((json_int_t)s->ncmds));
    json_object_set_new(r, "bytes_in", json_integer((json_int_t)s->bytes_in));
    json_object_set_new(r, "bytes_out", json_integer((json_int_t)s->bytes_out));
    json_object_set_new(r, "discarded_after_starttls", json_integer((json_int_t)s->discarded_after_starttls));
    json_object_set_new(r, "expectations", ex);
    json_object_set_new(r, "notes", lines_array(&s->notes));
    json_object_set_new(r, "received", s->received ? json_incref(s->received) : json_array());
    json_object_set_new(r, "transcript", trs_path[0] ? json_string(trs_path) : json_null());
    json_object_set_new(r, "mailbox", mb_path[0] ? json_string(mb_path) : json_null());
    json_object_set_new(r, "result", res_path[0] ? json_string(res_path) : json_null());
    if (res_path[0]) {
        /* Written under a temporary name, then renamed: a reader polling
         * for the file never sees it half written. */
        char tmp[4300];
        snprintf(tmp, sizeof tmp, "%s.tmp", res_path);
        if (json_dump_file(r, tmp, JSON_INDENT(2) | JSON_ENSURE_ASCII) != 0 || rename(tmp, res_path) != 0)
            res_path[0] = 0;
    }
    /* Kept for the report at exit only when one was asked for, so that a
     * long-running server does not grow with every session. */
    char *line = srv->o.report ? json_dumps(r, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (line) {
        mr_buf_adds(&srv->results, line);
        mr_buf_addc(&srv->results, '\n');
        free(line);
    }
    if (passed)
        srv->passed++;
    else
        srv->failed++;
    if (!srv->o.quiet && !srv->o.report) {
        json_t *ev = json_pack("{s:s,s:i,s:s,s:s}", "event", "session", "session", (int)s->id,
                               "verdict", passed ? "passed" : "failed", "end", mr_end_name(s->end));
        json_object_set_new(ev, "result", res_path[0] ? json_string(res_path) : json_null());
        char *l = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII);
        if (l) {
            printf("%s\n", l);
            fflush(stdout);
            free(l);
        }
        json_decref(ev);
    }
    json_decref(r);
}
