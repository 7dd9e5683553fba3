// SPDX-License-Identifier: MIT
/*
 * sigma_load.c: Sigma 2.x rules and correlation rules from YAML into the engine's
 * intermediate form (atoms and condition trees), checked against the event schema.
 *
 * Every YAML document is one rule. Whatever it contains is untrusted: every walk is
 * bounded by the limits in ringfence/limits.h (nodes visited, values, identifiers,
 * condition length and depth), and every rejection names the line and column.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "detect/detect_int.h"
#include "detect/correlate.h"

struct pctx {
	struct rf_detect *d;
	yaml_document_t *doc;
	const char *file;
	unsigned visits;
	int status;          /* RF_RULE_* once something went wrong */
	unsigned line, col;
	char reason[512];
	struct rule *r;
	/* detection identifiers */
	char *idname[RF_RULE_IDENTS_MAX];
	struct node *idnode[RF_RULE_IDENTS_MAX];
	unsigned nid;
	uint64_t classes;
	const char *category;
	unsigned nnodes;
};

/* ---- report --------------------------------------------------------------- */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void rf_detect_report_add_(struct rf_detect_report *rep, const char *file, unsigned line,
			   unsigned col, const char *id, const char *title, bool corr, int status,
			   const char *reason, size_t *index)
{
	struct rf_detect_status *s;

	if (index)
		*index = (size_t)-1;
	if (!rep)
		return;
	if (rep->n == rep->cap) {
		size_t nc = rep->cap ? rep->cap * 2 : 64;
		void *p = realloc(rep->v, nc * sizeof(*rep->v));
		if (!p)
			return;
		rep->v = p;
		rep->cap = nc;
	}
	s = &rep->v[rep->n];
	memset(s, 0, sizeof(*s));
	s->file = xstrdup(file);
	s->line = line;
	s->col = col;
	s->id = xstrdup(id);
	s->title = xstrdup(title);
	s->correlation = corr;
	s->status = status;
	s->reason = xstrdup(reason);
	if (status == RF_RULE_COMPILED)
		rep->compiled++;
	else if (status == RF_RULE_UNSUPPORTED)
		rep->unsupported++;
	else
		rep->invalid++;
	if (index)
		*index = rep->n;
	rep->n++;
}

static void count(struct rf_detect_report *rep, int status, int delta)
{
	if (status == RF_RULE_COMPILED)
		rep->compiled += delta;
	else if (status == RF_RULE_UNSUPPORTED)
		rep->unsupported += delta;
	else
		rep->invalid += delta;
}

void rf_detect_report_set_(struct rf_detect_report *rep, size_t index, int status,
			   const char *reason)
{
	struct rf_detect_status *s;

	if (!rep || index >= rep->n)
		return;
	s = &rep->v[index];
	count(rep, s->status, -1);
	s->status = status;
	free(s->reason);
	s->reason = xstrdup(reason);
	count(rep, status, 1);
}

void rf_detect_report_free(struct rf_detect_report *rep)
{
	size_t i;

	if (!rep)
		return;
	for (i = 0; i < rep->n; i++) {
		free(rep->v[i].file);
		free(rep->v[i].id);
		free(rep->v[i].title);
		free(rep->v[i].reason);
	}
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

const char *rf_detect_status_name(int status)
{
	switch (status) {
	case RF_RULE_COMPILED: return "compiled";
	case RF_RULE_UNSUPPORTED: return "unsupported";
	default: return "invalid";
	}
}

/* ---- errors and YAML helpers ---------------------------------------------- */

__attribute__((format(printf, 4, 5)))
static int fail(struct pctx *p, int status, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;

	if (p->status)
		return -EINVAL; /* keep the first problem */
	p->status = status;
	if (at) {
		p->line = (unsigned)at->start_mark.line + 1;
		p->col = (unsigned)at->start_mark.column + 1;
	}
	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static yaml_node_t *node_get(struct pctx *p, int idx)
{
	if (++p->visits > RF_RULE_YAML_NODES_MAX) {
		fail(p, RF_RULE_INVALID, NULL, "document too large: more than %u YAML nodes visited",
		     RF_RULE_YAML_NODES_MAX);
		return NULL;
	}
	return yaml_document_get_node(p->doc, idx);
}

static bool is_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static bool scalar_is_plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_ANY_SCALAR_STYLE;
}

static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (!is_scalar(n) || !scalar_is_plain(n))
		return false;
	v = sval(n);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* 1 true, 0 false, -1 not a boolean */
static int as_bool(const yaml_node_t *n)
{
	const char *v;

	if (!is_scalar(n))
		return -1;
	v = sval(n);
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes"))
		return 1;
	if (!strcasecmp(v, "false") || !strcasecmp(v, "no"))
		return 0;
	return -1;
}

/* Value of KEY in mapping M, or NULL. */
static yaml_node_t *map_get(struct pctx *p, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *pr;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_get(p, pr->key);
		if (!k)
			return NULL;
		if (is_scalar(k) && !strcmp(sval(k), key))
			return node_get(p, pr->value);
	}
	return NULL;
}

static const char *map_str(struct pctx *p, yaml_node_t *m, const char *key)
{
	yaml_node_t *v = map_get(p, m, key);

	return is_scalar(v) ? sval(v) : NULL;
}

/* ---- nodes and atoms -------------------------------------------------------- */

static struct node *node_new(struct pctx *p, int kind, unsigned n)
{
	struct rf_detect *d = p->d;
	struct node *x;

	if (++p->nnodes > RF_RULE_NODES_MAX) {
		fail(p, RF_RULE_INVALID, NULL, "rule too large: more than %u condition nodes",
		     RF_RULE_NODES_MAX);
		return NULL;
	}
	if (d->nnodes == d->capnodes) {
		size_t nc = d->capnodes ? d->capnodes * 2 : 256;
		void *q = realloc(d->nodes, nc * sizeof(*d->nodes));
		if (!q)
			goto oom;
		d->nodes = q;
		d->capnodes = nc;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		goto oom;
	if (n) {
		x->kids = calloc(n, sizeof(*x->kids));
		if (!x->kids) {
			free(x);
			goto oom;
		}
	}
	x->kind = kind;
	x->n = n;
	d->nodes[d->nnodes++] = x;
	return x;
oom:
	fail(p, RF_RULE_INVALID, NULL, "out of memory");
	return NULL;
}

static struct node *node_const(struct pctx *p, bool v)
{
	struct node *x = node_new(p, N_CONST, 0);

	if (x)
		x->k = v;
	return x;
}

static struct node *node_not(struct pctx *p, struct node *k)
{
	struct node *x;

	if (!k)
		return NULL;
	x = node_new(p, N_NOT, 1);
	if (x)
		x->kids[0] = k;
	return x;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static int hash_grow(struct rf_detect *d)
{
	unsigned nc = d->hashcap ? d->hashcap * 2 : 1024, i;
	int *h = malloc(nc * sizeof(int));

	if (!h)
		return -ENOMEM;
	for (i = 0; i < nc; i++)
		h[i] = -1;
	for (i = 0; i < d->natoms; i++) {
		unsigned j = (unsigned)fnv(d->atoms[i].key) & (nc - 1);
		while (h[j] >= 0)
			j = (j + 1) & (nc - 1);
		h[j] = (int)i;
	}
	free(d->atom_hash);
	d->atom_hash = h;
	d->hashcap = nc;
	return 0;
}

static void atom_release(struct atom *a)
{
	free(a->field);
	free(a->key);
	free(a->tok);
	free(a->re);
	free(a->ref);
	free(a->rules);
	free(a->trules);
	free(a->lit_s);
	if (a->posix_ok)
		regfree(&a->posix);
	if (a->lazy_db)
		hs_free_database(a->lazy_db);
}

/* Intern PROTO (its pointers are taken over, or freed when an equal atom exists);
 * returns an N_ATOM node. */
static struct node *atom_node(struct pctx *p, struct atom *proto)
{
	struct rf_detect *d = p->d;
	struct node *x;
	unsigned j, c;
	int idx = -1;

	if (!proto->key)
		goto oom;
	if ((d->natoms + 1) * 2 > d->hashcap && hash_grow(d) < 0)
		goto oom;
	j = (unsigned)fnv(proto->key) & (d->hashcap - 1);
	while (d->atom_hash[j] >= 0) {
		if (!strcmp(d->atoms[d->atom_hash[j]].key, proto->key)) {
			idx = d->atom_hash[j];
			break;
		}
		j = (j + 1) & (d->hashcap - 1);
	}
	if (idx >= 0) {
		atom_release(proto);
	} else {
		if (d->natoms >= RF_DETECT_ATOMS_MAX) {
			atom_release(proto);
			fail(p, RF_RULE_INVALID, NULL, "too many distinct field tests in all rules (limit %u)",
			     RF_DETECT_ATOMS_MAX);
			return NULL;
		}
		if (d->natoms == d->capatoms) {
			unsigned nc = d->capatoms ? d->capatoms * 2 : 256;
			void *q = realloc(d->atoms, nc * sizeof(*d->atoms));
			if (!q)
				goto oom;
			d->atoms = q;
			d->capatoms = nc;
		}
		for (c = 0; c < RF_CLASSES_MAX; c++) {
			const struct rf_class_desc *cd = rf_schema_class(c);
			proto->fidx[c] = (int16_t)(cd && proto->field ? rf_schema_field_by_sigma(cd, proto->field) : -1);
			proto->ridx[c] = (int16_t)(cd && proto->ref ? rf_schema_field_by_sigma(cd, proto->ref) : -1);
		}
		idx = (int)d->natoms;
		d->atoms[d->natoms++] = *proto;
		d->atom_hash[j] = idx;
	}
	memset(proto, 0, sizeof(*proto));
	x = node_new(p, N_ATOM, 0);
	if (x)
		x->atom = idx;
	return x;
oom:
	atom_release(proto);
	memset(proto, 0, sizeof(*proto));
	fail(p, RF_RULE_INVALID, NULL, "out of memory");
	return NULL;
}

/* ---- values ----------------------------------------------------------------- */

struct tokbuf {
	uint16_t *t;
	size_t n, cap;
};

static int tb_push(struct tokbuf *b, uint16_t v)
{
	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 64;
		void *q;
		if (nc > RF_RULE_VALUE_MAX * 2)
			return -E2BIG;
		q = realloc(b->t, nc * sizeof(*b->t));
		if (!q)
			return -ENOMEM;
		b->t = q;
		b->cap = nc;
	}
	b->t[b->n++] = v;
	return 0;
}

/* Sigma wildcards and escapes: `*` any run, `?` one character; a backslash escapes
 * `*`, `?` and itself, and is literal before anything else. */
static int parse_wild(const char *s, size_t len, struct tokbuf *b)
{
	size_t i;
	int r = 0;

	for (i = 0; i < len && !r; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' && i + 1 < len && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
			r = tb_push(b, (unsigned char)s[++i]);
		} else if (c == '*') {
			if (!b->n || b->t[b->n - 1] != TOK_STAR)
				r = tb_push(b, TOK_STAR);
		} else if (c == '?') {
			r = tb_push(b, TOK_ONE);
		} else {
			r = tb_push(b, c);
		}
	}
	return r;
}

static int lit_tokens(const unsigned char *s, size_t len, struct tokbuf *b)
{
	size_t i;
	int r = 0;

	for (i = 0; i < len && !r; i++)
		r = tb_push(b, s[i]);
	return r;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64enc(const unsigned char *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = b64chars[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64chars[v >> 18 & 63];
		out[o++] = b64chars[v >> 12 & 63];
		out[o++] = b64chars[v >> 6 & 63];
		out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

static bool wordc(int c)
{
	return isalnum(c) || c == '_';
}

/* windash: a '-' or '/' (or en dash, em dash, horizontal bar) that starts a word, i.e.
 * not after a word character and before one, matches any of those five. */
static void apply_windash(struct tokbuf *b)
{
	size_t i, o = 0;

	for (i = 0; i < b->n; i++) {
		uint16_t t = b->t[i];
		size_t w = 0;
		if (t == '-' || t == '/')
			w = 1;
		else if (t == 0xe2 && i + 2 < b->n && b->t[i + 1] == 0x80 &&
			 (b->t[i + 2] == 0x93 || b->t[i + 2] == 0x94 || b->t[i + 2] == 0x95))
			w = 3;
		if (w) {
			bool before = o > 0 && b->t[o - 1] < 256 && wordc(b->t[o - 1]);
			bool after = i + w < b->n && b->t[i + w] < 256 && wordc(b->t[i + w]);
			if (!before && after) {
				b->t[o++] = TOK_DASH;
				i += w - 1;
				continue;
			}
		}
		b->t[o++] = t;
	}
	b->n = o;
}

static char *tok_key(const struct tokbuf *b)
{
	char *k = malloc(b->n * 4 + 1), *q = k;
	size_t i;

	if (!k)
		return NULL;
	for (i = 0; i < b->n; i++) {
		uint16_t t = b->t[i];
		if (t == TOK_STAR)
			*q++ = '*', *q++ = '*';
		else if (t == TOK_ONE)
			*q++ = '*', *q++ = '?';
		else if (t == TOK_DASH)
			*q++ = '*', *q++ = '-';
		else if (t == '*')
			*q++ = '*', *q++ = '\\';
		else
			*q++ = (char)t;
	}
	*q = 0;
	return k;
}

static char *mkkey(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *mkkey(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

struct mods {
	bool contains, startswith, endswith, all, cased, re, cidr, exists, fieldref, neq;
	bool base64, base64offset, windash;
	int cmp;
	unsigned reflags;
	bool base64_before_wild; /* base64 applied: value taken literally */
};

static int glob_atom_node(struct pctx *p, const char *field, bool keyword, const struct mods *m,
			  struct tokbuf *tb, struct node **out)
{
	struct atom a = {0};
	char *tk;
	bool allstar = true;
	size_t i;

	if (m->windash)
		apply_windash(tb);
	if (m->contains || m->endswith)
		if (!tb->n || tb->t[0] != TOK_STAR) {
			if (tb_push(tb, 0) < 0)
				return fail(p, RF_RULE_INVALID, NULL, "value too long");
			memmove(tb->t + 1, tb->t, (tb->n - 1) * sizeof(*tb->t));
			tb->t[0] = TOK_STAR;
		}
	if ((m->contains || m->startswith) && (!tb->n || tb->t[tb->n - 1] != TOK_STAR))
		if (tb_push(tb, TOK_STAR) < 0)
			return fail(p, RF_RULE_INVALID, NULL, "value too long");
	if (keyword && (!tb->n || tb->t[0] != TOK_STAR)) {
		/* keywords match anywhere in a field's value */
		if (tb_push(tb, 0) < 0)
			return fail(p, RF_RULE_INVALID, NULL, "value too long");
		memmove(tb->t + 1, tb->t, (tb->n - 1) * sizeof(*tb->t));
		tb->t[0] = TOK_STAR;
	}
	if (keyword && tb->t[tb->n - 1] != TOK_STAR && tb_push(tb, TOK_STAR) < 0)
		return fail(p, RF_RULE_INVALID, NULL, "value too long");
	for (i = 0; i < tb->n; i++)
		if (tb->t[i] != TOK_STAR)
			allstar = false;
	tk = tok_key(tb);
	a.kind = keyword ? A_KEYWORD : A_GLOB;
	a.field = keyword ? NULL : strdup(field);
	a.cased = m->cased;
	a.can_empty = allstar;
	a.key = tk ? mkkey("%c%c|%s|%s", keyword ? 'K' : 'G', m->cased ? 'c' : 'i',
			    keyword ? "" : field, tk) : NULL;
	free(tk);
	a.tok = tb->t;
	a.ntok = tb->n;
	tb->t = NULL;
	tb->n = tb->cap = 0;
	if ((!keyword && !a.field))
		a.key = (free(a.key), NULL);
	*out = atom_node(p, &a);
	return *out ? 0 : -EINVAL;
}

/* One value under a field (or a keyword when FIELD is NULL); returns an OR node when
 * base64offset gives several encodings. */
static struct node *value_node(struct pctx *p, const char *field, const struct rf_field_desc *fd,
			       const struct mods *m, yaml_node_t *v)
{
	struct atom a = {0};
	struct tokbuf tb = {0};
	struct node *x = NULL;
	const char *s;
	size_t len;

	if (is_null(v)) {
		if (!field)
			return fail(p, RF_RULE_INVALID, v, "a keyword cannot be null"), NULL;
		a.kind = A_NULL;
		a.field = strdup(field);
		a.key = mkkey("N|%s", field);
		return atom_node(p, &a);
	}
	if (!is_scalar(v)) {
		fail(p, RF_RULE_INVALID, v, "a value must be a scalar (string, number, boolean or null)");
		return NULL;
	}
	s = sval(v);
	len = v->data.scalar.length;
	if (len > RF_RULE_VALUE_MAX || strlen(s) != len) {
		fail(p, RF_RULE_INVALID, v, "value longer than %u bytes or holding a NUL", RF_RULE_VALUE_MAX);
		return NULL;
	}
	if (m->exists) {
		int b = as_bool(v);
		if (b < 0) {
			fail(p, RF_RULE_INVALID, v, "'exists' takes true or false");
			return NULL;
		}
		a.kind = A_EXISTS;
		a.field = strdup(field);
		a.key = mkkey("E|%s", field);
		x = atom_node(p, &a);
		return b ? x : node_not(p, x);
	}
	if (m->re) {
		a.kind = A_RE;
		a.field = field ? strdup(field) : NULL;
		a.re = strdup(s);
		a.reflags = m->reflags;
		a.key = mkkey("R%u|%s|%s", m->reflags, field ? field : "", s);
		if (!field) {
			atom_release(&a);
			fail(p, RF_RULE_UNSUPPORTED, v, "'re' on keywords is not supported");
			return NULL;
		}
		return atom_node(p, &a);
	}
	if (m->cidr) {
		const char *slash = strchr(s, '/');
		char ip[64];
		long pre;
		char *end;
		bool v4;
		if (!slash || (size_t)(slash - s) >= sizeof(ip)) {
			fail(p, RF_RULE_INVALID, v, "'%s' is not a network in CIDR notation (address/prefix)", s);
			return NULL;
		}
		memcpy(ip, s, (size_t)(slash - s));
		ip[slash - s] = 0;
		v4 = !strchr(ip, ':');
		pre = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || pre < 0 || pre > (v4 ? 32 : 128) ||
		    rf_detect_parse_ip_(ip, a.net) < 0) {
			fail(p, RF_RULE_INVALID, v, "'%s' is not a network in CIDR notation (address/prefix)", s);
			return NULL;
		}
		a.kind = A_CIDR;
		a.prefix = (unsigned)(v4 ? pre + 96 : pre);
		a.field = strdup(field);
		a.key = mkkey("C|%s|%s", field, s);
		return atom_node(p, &a);
	}
	if (m->cmp) {
		char *end;
		long long n;
		errno = 0;
		n = strtoll(s, &end, 0);
		if (!*s || *end || errno) {
			fail(p, RF_RULE_INVALID, v, "'%s' is not an integer (lt, lte, gt and gte compare numbers)", s);
			return NULL;
		}
		a.kind = A_NUMCMP;
		a.cmp = m->cmp;
		a.num = n;
		a.field = strdup(field);
		a.key = mkkey("M%d|%s|%lld", m->cmp, field, n);
		return atom_node(p, &a);
	}
	if (m->fieldref) {
		a.kind = A_FIELDREF;
		a.field = strdup(field);
		a.ref = strdup(s);
		a.cased = m->cased;
		a.refmode = m->contains ? REF_CONTAINS : m->startswith ? REF_STARTS :
			    m->endswith ? REF_ENDS : REF_EQ;
		a.key = mkkey("F%d%c|%s|%s", a.refmode, m->cased ? 'c' : 'i', field, s);
		return atom_node(p, &a);
	}
	if (m->base64 || m->base64offset) {
		char enc[RF_RULE_VALUE_MAX * 2 + 8];
		unsigned char raw[RF_RULE_VALUE_MAX + 2];
		int i, nvar = m->base64offset ? 3 : 1;
		struct node *or = node_new(p, N_OR, (unsigned)nvar);
		static const int start_off[3] = {0, 2, 3};
		static const int end_off[3] = {0, 3, 2};

		if (!or)
			return NULL;
		for (i = 0; i < nvar; i++) {
			size_t rl = 0, el;
			int st, en;
			memset(raw, ' ', (size_t)i);
			rl = (size_t)i;
			memcpy(raw + rl, s, len);
			rl += len;
			el = b64enc(raw, rl, enc);
			if (m->base64offset) {
				st = start_off[i];
				en = end_off[(len + (size_t)i) % 3];
				if ((size_t)(st + en) > el) {
					fail(p, RF_RULE_INVALID, v, "value too short for base64offset");
					return NULL;
				}
				el -= (size_t)en;
			} else {
				st = 0;
			}
			tb.n = 0;
			if (lit_tokens((unsigned char *)enc + st, el - (size_t)st, &tb) < 0) {
				free(tb.t);
				fail(p, RF_RULE_INVALID, v, "value too long");
				return NULL;
			}
			if (glob_atom_node(p, field, !field, m, &tb, &or->kids[i]) < 0) {
				free(tb.t);
				return NULL;
			}
		}
		free(tb.t);
		return nvar == 1 ? or->kids[0] : or;
	}
	if (parse_wild(s, len, &tb) < 0) {
		free(tb.t);
		fail(p, RF_RULE_INVALID, v, "value too long");
		return NULL;
	}
	(void)fd;
	if (glob_atom_node(p, field, !field, m, &tb, &x) < 0) {
		free(tb.t);
		return NULL;
	}
	free(tb.t);
	return x;
}

static int parse_mods(struct pctx *p, yaml_node_t *at, char *spec, struct mods *m)
{
	char *save = NULL, *tok;
	int ntype = 0;

	memset(m, 0, sizeof(*m));
	for (tok = strtok_r(spec, "|", &save); tok; tok = strtok_r(NULL, "|", &save)) {
		if (!strcmp(tok, "contains")) m->contains = true, ntype++;
		else if (!strcmp(tok, "startswith")) m->startswith = true, ntype++;
		else if (!strcmp(tok, "endswith")) m->endswith = true, ntype++;
		else if (!strcmp(tok, "all")) m->all = true;
		else if (!strcmp(tok, "cased")) m->cased = true;
		else if (!strcmp(tok, "re")) m->re = true, ntype++;
		else if (!strcmp(tok, "i") || !strcmp(tok, "m") || !strcmp(tok, "s")) {
			if (!m->re)
				return fail(p, RF_RULE_INVALID, at, "modifier '%s' must follow 're'", tok);
			m->reflags |= tok[0] == 'i' ? REF_I : tok[0] == 'm' ? REF_M : REF_S;
		} else if (!strcmp(tok, "cidr")) m->cidr = true, ntype++;
		else if (!strcmp(tok, "exists")) m->exists = true, ntype++;
		else if (!strcmp(tok, "fieldref")) m->fieldref = true;
		else if (!strcmp(tok, "neq")) m->neq = true;
		else if (!strcmp(tok, "base64")) m->base64 = true;
		else if (!strcmp(tok, "base64offset")) m->base64offset = true;
		else if (!strcmp(tok, "windash")) m->windash = true;
		else if (!strcmp(tok, "lt")) m->cmp = CMP_LT, ntype++;
		else if (!strcmp(tok, "lte")) m->cmp = CMP_LTE, ntype++;
		else if (!strcmp(tok, "gt")) m->cmp = CMP_GT, ntype++;
		else if (!strcmp(tok, "gte")) m->cmp = CMP_GTE, ntype++;
		else if (!strcmp(tok, "wide") || !strcmp(tok, "utf16le") || !strcmp(tok, "utf16be") ||
			 !strcmp(tok, "utf16"))
			return fail(p, RF_RULE_UNSUPPORTED, at,
				    "modifier '%s': UTF-16 encodings do not occur in Linux events", tok);
		else if (!strcmp(tok, "expand"))
			return fail(p, RF_RULE_UNSUPPORTED, at,
				    "modifier 'expand': placeholders need a site configuration ringfence does not have");
		else if (!strcmp(tok, "minute") || !strcmp(tok, "hour") || !strcmp(tok, "day") ||
			 !strcmp(tok, "week") || !strcmp(tok, "month") || !strcmp(tok, "year"))
			return fail(p, RF_RULE_UNSUPPORTED, at, "time modifier '%s' is not supported", tok);
		else
			return fail(p, RF_RULE_INVALID, at, "unknown modifier '%s'", tok);
	}
	if (m->fieldref && (m->re || m->cidr || m->cmp || m->exists || m->base64 || m->base64offset))
		return fail(p, RF_RULE_INVALID, at, "'fieldref' combines only with contains, startswith, endswith, cased, all and neq");
	if (ntype > 1 && !(ntype == 2 && m->startswith && m->endswith))
		return fail(p, RF_RULE_INVALID, at, "conflicting modifiers (more than one of contains, startswith, endswith, re, cidr, exists, lt, lte, gt, gte)");
	if ((m->base64 || m->base64offset) && (m->re || m->cidr || m->cmp || m->exists))
		return fail(p, RF_RULE_INVALID, at, "base64 modifiers apply to strings only");
	if (m->base64 && m->base64offset)
		return fail(p, RF_RULE_INVALID, at, "use one of base64 and base64offset");
	if (m->windash && (m->re || m->cidr || m->cmp || m->exists))
		return fail(p, RF_RULE_INVALID, at, "'windash' applies to strings only");
	return 0;
}

/* "Field|mod|mod: value(s)" in a selection map; FIELD NULL for "|all" keywords. */
static struct node *field_node(struct pctx *p, yaml_node_t *knode, yaml_node_t *vnode)
{
	char spec[512], *bar, *field;
	const struct rf_field_desc *fd = NULL;
	struct mods m;
	struct node *x;
	unsigned c, n = 0, i;
	bool found = false;
	yaml_node_t *vals[RF_RULE_VALUES_MAX];

	if (!is_scalar(knode) || knode->data.scalar.length >= sizeof(spec))
		return fail(p, RF_RULE_INVALID, knode, "a field name must be a short string"), NULL;
	memcpy(spec, sval(knode), knode->data.scalar.length + 1);
	bar = strchr(spec, '|');
	field = spec;
	if (bar) {
		*bar = 0;
		if (parse_mods(p, knode, bar + 1, &m) < 0)
			return NULL;
	} else {
		memset(&m, 0, sizeof(m));
	}
	if (!*field) {
		field = NULL; /* "|all": keywords */
		if (m.re || m.cidr || m.cmp || m.exists || m.fieldref)
			return fail(p, RF_RULE_INVALID, knode, "keywords take string modifiers only"), NULL;
	}
	if (field) {
		for (c = 0; c < RF_CLASSES_MAX; c++) {
			const struct rf_class_desc *cd;
			int k;
			if (!(p->classes & (1ull << c)) || !(cd = rf_schema_class(c)))
				continue;
			k = rf_schema_field_by_sigma(cd, field);
			if (k >= 0) {
				found = true;
				fd = &cd->fields[k];
				if (m.cidr && fd->type != RF_FT_IP)
					return fail(p, RF_RULE_INVALID, knode, "'cidr' on field '%s', which is not an IP address", field), NULL;
			}
		}
		if (!found)
			return fail(p, RF_RULE_INVALID, knode,
				    "field '%s' does not exist in the event schema for category %s",
				    field, p->category), NULL;
	}
	if (vnode->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it;
		for (it = vnode->data.sequence.items.start; it < vnode->data.sequence.items.top; it++) {
			if (n >= RF_RULE_VALUES_MAX)
				return fail(p, RF_RULE_INVALID, vnode, "more than %u values", RF_RULE_VALUES_MAX), NULL;
			if (!(vals[n++] = node_get(p, *it)))
				return NULL;
		}
		if (!n)
			return fail(p, RF_RULE_INVALID, vnode, "empty value list"), NULL;
	} else if (vnode->type == YAML_SCALAR_NODE) {
		vals[n++] = vnode;
	} else {
		return fail(p, RF_RULE_INVALID, vnode, "a field takes a value or a list of values, not a map"), NULL;
	}
	if (m.fieldref)
		for (i = 0; i < n; i++) {
			bool ok = false;
			if (!is_scalar(vals[i]))
				return fail(p, RF_RULE_INVALID, vals[i], "'fieldref' needs a field name"), NULL;
			for (c = 0; c < RF_CLASSES_MAX; c++) {
				const struct rf_class_desc *cd = rf_schema_class(c);
				if ((p->classes & (1ull << c)) && cd &&
				    rf_schema_field_by_sigma(cd, sval(vals[i])) >= 0)
					ok = true;
			}
			if (!ok)
				return fail(p, RF_RULE_INVALID, vals[i],
					    "fieldref: field '%s' does not exist in the event schema for category %s",
					    sval(vals[i]), p->category), NULL;
		}
	x = node_new(p, m.all && !m.neq ? N_AND : N_OR, n);
	if (!x)
		return NULL;
	for (i = 0; i < n; i++)
		if (!(x->kids[i] = value_node(p, field, fd, &m, vals[i])))
			return NULL;
	if (n == 1)
		x = x->kids[0];
	return m.neq ? node_not(p, x) : x;
}

static struct node *map_node(struct pctx *p, yaml_node_t *mnode)
{
	yaml_node_pair_t *pr;
	struct node *x;
	unsigned n = 0;

	for (pr = mnode->data.mapping.pairs.start; pr < mnode->data.mapping.pairs.top; pr++)
		n++;
	if (!n)
		return fail(p, RF_RULE_INVALID, mnode, "empty selection"), NULL;
	if (n > RF_RULE_VALUES_MAX)
		return fail(p, RF_RULE_INVALID, mnode, "selection too large"), NULL;
	x = node_new(p, N_AND, n);
	if (!x)
		return NULL;
	n = 0;
	for (pr = mnode->data.mapping.pairs.start; pr < mnode->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_get(p, pr->key), *v = node_get(p, pr->value);
		if (!k || !v)
			return NULL;
		if (!(x->kids[n++] = field_node(p, k, v)))
			return NULL;
	}
	return n == 1 ? x->kids[0] : x;
}

/* A search identifier: a map (AND of fields), a list of maps (OR) or a list of
 * keywords (OR), or a single keyword. */
static struct node *ident_node(struct pctx *p, yaml_node_t *v)
{
	static const struct mods none;
	struct node *x;
	yaml_node_item_t *it;
	unsigned n = 0, maps = 0;

	if (v->type == YAML_MAPPING_NODE)
		return map_node(p, v);
	if (v->type == YAML_SCALAR_NODE)
		return value_node(p, NULL, NULL, &none, v);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node_get(p, *it);
		if (!e)
			return NULL;
		if (e->type == YAML_MAPPING_NODE)
			maps++;
		else if (e->type != YAML_SCALAR_NODE)
			return fail(p, RF_RULE_INVALID, e, "a list in a detection holds maps or keywords, not lists"), NULL;
		n++;
	}
	if (!n)
		return fail(p, RF_RULE_INVALID, v, "empty search identifier"), NULL;
	if (n > RF_RULE_VALUES_MAX)
		return fail(p, RF_RULE_INVALID, v, "more than %u values", RF_RULE_VALUES_MAX), NULL;
	if (maps && maps != n)
		return fail(p, RF_RULE_INVALID, v, "a list mixes maps and keywords"), NULL;
	x = node_new(p, N_OR, n);
	if (!x)
		return NULL;
	n = 0;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node_get(p, *it);
		if (!e)
			return NULL;
		x->kids[n] = maps ? map_node(p, e) : value_node(p, NULL, NULL, &none, e);
		if (!x->kids[n++])
			return NULL;
	}
	return n == 1 ? x->kids[0] : x;
}

/* ---- condition -------------------------------------------------------------- */

struct cparse {
	struct pctx *p;
	yaml_node_t *at;
	const char *s;
	size_t pos;
	char tok[256];
	int tt; /* 0 end, 1 word, '(' ')' */
	unsigned depth;
};

static int cnext(struct cparse *c)
{
	const char *s = c->s;
	size_t n = 0;

	while (s[c->pos] == ' ' || s[c->pos] == '\t' || s[c->pos] == '\n' || s[c->pos] == '\r')
		c->pos++;
	if (!s[c->pos]) {
		c->tt = 0;
		return 0;
	}
	if (s[c->pos] == '(' || s[c->pos] == ')') {
		c->tt = s[c->pos++];
		return 0;
	}
	if (s[c->pos] == '|')
		return fail(c->p, RF_RULE_UNSUPPORTED, c->at,
			    "aggregation in the condition ('|') is obsolete Sigma: use a correlation rule");
	while (s[c->pos] && !strchr(" \t\r\n()|", s[c->pos])) {
		if (n + 1 >= sizeof(c->tok))
			return fail(c->p, RF_RULE_INVALID, c->at, "condition word too long");
		c->tok[n++] = s[c->pos++];
	}
	c->tok[n] = 0;
	c->tt = 1;
	return 0;
}

static bool word(struct cparse *c, const char *w)
{
	return c->tt == 1 && !strcasecmp(c->tok, w);
}

static bool ident_match(const char *pat, const char *s)
{
	if (!*pat)
		return !*s;
	if (*pat == '*')
		return ident_match(pat + 1, s) || (*s && ident_match(pat, s + 1));
	return *s == *pat && ident_match(pat + 1, s + 1);
}

static struct node *cexpr(struct cparse *c);

static struct node *cprimary(struct cparse *c)
{
	struct pctx *p = c->p;
	struct node *x;
	unsigned i;

	if (c->tt == '(') {
		if (++c->depth > RF_RULE_DEPTH_MAX)
			return fail(p, RF_RULE_INVALID, c->at, "condition nested deeper than %u", RF_RULE_DEPTH_MAX), NULL;
		if (cnext(c) < 0 || !(x = cexpr(c)))
			return NULL;
		if (c->tt != ')')
			return fail(p, RF_RULE_INVALID, c->at, "condition: missing ')'"), NULL;
		c->depth--;
		return cnext(c) < 0 ? NULL : x;
	}
	if (c->tt != 1)
		return fail(p, RF_RULE_INVALID, c->at, "condition: expected a search identifier at offset %zu", c->pos), NULL;
	if (word(c, "all") || strspn(c->tok, "0123456789") == strlen(c->tok)) {
		bool all = word(c, "all");
		long k = all ? 0 : strtol(c->tok, NULL, 10);
		unsigned nm = 0;
		struct node *kids[RF_RULE_IDENTS_MAX];
		bool them;
		if (cnext(c) < 0)
			return NULL;
		if (!word(c, "of"))
			return fail(p, RF_RULE_INVALID, c->at, "condition: expected 'of' after '%s'", all ? "all" : "a number"), NULL;
		if (cnext(c) < 0)
			return NULL;
		if (c->tt != 1)
			return fail(p, RF_RULE_INVALID, c->at, "condition: expected 'them' or an identifier pattern after 'of'"), NULL;
		them = word(c, "them");
		for (i = 0; i < p->nid; i++)
			if (them ? p->idname[i][0] != '_' : ident_match(c->tok, p->idname[i]))
				kids[nm++] = p->idnode[i];
		if (!nm)
			return fail(p, RF_RULE_INVALID, c->at, "condition: '%s' matches no search identifier", c->tok), NULL;
		if (!all && (k < 1))
			return fail(p, RF_RULE_INVALID, c->at, "condition: 'N of' needs N >= 1"), NULL;
		if (!all && k > (long)nm)
			return node_const(p, false); /* cannot be met */
		x = node_new(p, all ? N_AND : k == 1 ? N_OR : N_ATLEAST, nm);
		if (!x)
			return NULL;
		x->k = (int)k;
		memcpy(x->kids, kids, nm * sizeof(*kids));
		return cnext(c) < 0 ? NULL : x;
	}
	if (word(c, "and") || word(c, "or") || word(c, "of") || word(c, "them"))
		return fail(p, RF_RULE_INVALID, c->at, "condition: unexpected '%s'", c->tok), NULL;
	for (i = 0; i < p->nid; i++)
		if (!strcmp(p->idname[i], c->tok))
			break;
	if (i == p->nid)
		return fail(p, RF_RULE_INVALID, c->at, "condition names an unknown search identifier '%s'", c->tok), NULL;
	x = p->idnode[i];
	return cnext(c) < 0 ? NULL : x;
}

static struct node *cnot(struct cparse *c)
{
	struct node *x;

	if (word(c, "not")) {
		if (++c->depth > RF_RULE_DEPTH_MAX)
			return fail(c->p, RF_RULE_INVALID, c->at, "condition nested deeper than %u", RF_RULE_DEPTH_MAX), NULL;
		if (cnext(c) < 0 || !(x = cnot(c)))
			return NULL;
		c->depth--;
		return node_not(c->p, x);
	}
	return cprimary(c);
}

static struct node *cbin(struct cparse *c, bool is_or)
{
	struct node *kids[64], *x, *y;
	unsigned n = 0;

	if (!(x = is_or ? cbin(c, false) : cnot(c)))
		return NULL;
	kids[n++] = x;
	while (word(c, is_or ? "or" : "and")) {
		if (cnext(c) < 0 || !(y = is_or ? cbin(c, false) : cnot(c)))
			return NULL;
		if (n == sizeof(kids) / sizeof(kids[0])) {
			/* fold into a nested node to stay bounded */
			struct node *f = node_new(c->p, is_or ? N_OR : N_AND, n);
			if (!f)
				return NULL;
			memcpy(f->kids, kids, n * sizeof(*kids));
			kids[0] = f;
			n = 1;
		}
		kids[n++] = y;
	}
	if (n == 1)
		return kids[0];
	x = node_new(c->p, is_or ? N_OR : N_AND, n);
	if (x)
		memcpy(x->kids, kids, n * sizeof(*kids));
	return x;
}

static struct node *cexpr(struct cparse *c)
{
	return cbin(c, true);
}

static struct node *parse_condition(struct pctx *p, yaml_node_t *cn)
{
	struct cparse c = {.p = p, .at = cn};
	struct node *x;

	if (!is_scalar(cn))
		return fail(p, RF_RULE_INVALID, cn, "condition must be a string"), NULL;
	if (cn->data.scalar.length > RF_RULE_COND_MAX)
		return fail(p, RF_RULE_INVALID, cn, "condition longer than %u bytes", RF_RULE_COND_MAX), NULL;
	c.s = sval(cn);
	if (cnext(&c) < 0)
		return NULL;
	if (!(x = cexpr(&c)))
		return NULL;
	if (c.tt != 0)
		return fail(p, RF_RULE_INVALID, cn, "condition: unexpected '%s' at offset %zu",
			    c.tt == 1 ? c.tok : c.tt == ')' ? ")" : "(", c.pos), NULL;
	return x;
}

/* ---- documents -------------------------------------------------------------- */

static int parse_detection(struct pctx *p, yaml_node_t *det)
{
	yaml_node_pair_t *pr;
	yaml_node_t *cond = NULL;
	struct node *x;

	if (!det || det->type != YAML_MAPPING_NODE)
		return fail(p, RF_RULE_INVALID, det, "'detection' must be a map");
	for (pr = det->data.mapping.pairs.start; pr < det->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node_get(p, pr->key), *v = node_get(p, pr->value);
		if (!k || !v)
			return -EINVAL;
		if (!is_scalar(k))
			return fail(p, RF_RULE_INVALID, k, "search identifiers must be strings");
		if (!strcmp(sval(k), "condition")) {
			cond = v;
			continue;
		}
		if (!strcmp(sval(k), "timeframe"))
			return fail(p, RF_RULE_UNSUPPORTED, k, "'timeframe' belongs to obsolete aggregations: use a correlation rule");
		if (p->nid >= RF_RULE_IDENTS_MAX)
			return fail(p, RF_RULE_INVALID, k, "more than %u search identifiers", RF_RULE_IDENTS_MAX);
		if (strpbrk(sval(k), " \t()|") || !*sval(k))
			return fail(p, RF_RULE_INVALID, k, "search identifier '%s' holds a space, '(', ')' or '|'", sval(k));
		if (!(x = ident_node(p, v)))
			return -EINVAL;
		if (!(p->idname[p->nid] = strdup(sval(k))))
			return fail(p, RF_RULE_INVALID, k, "out of memory");
		p->idnode[p->nid++] = x;
	}
	if (!cond)
		return fail(p, RF_RULE_INVALID, det, "detection has no condition");
	if (cond->type == YAML_SEQUENCE_NODE) {
		/* a list of conditions: any of them */
		yaml_node_item_t *it;
		unsigned n = 0;
		for (it = cond->data.sequence.items.start; it < cond->data.sequence.items.top; it++)
			n++;
		if (!n || n > 64)
			return fail(p, RF_RULE_INVALID, cond, "a condition list holds 1 to 64 conditions");
		x = node_new(p, N_OR, n);
		if (!x)
			return -EINVAL;
		n = 0;
		for (it = cond->data.sequence.items.start; it < cond->data.sequence.items.top; it++) {
			yaml_node_t *e = node_get(p, *it);
			if (!e || !(x->kids[n++] = parse_condition(p, e)))
				return -EINVAL;
		}
	} else if (!(x = parse_condition(p, cond))) {
		return -EINVAL;
	}
	p->r->cond = x;
	return 0;
}

static int parse_logsource(struct pctx *p, yaml_node_t *ls)
{
	const char *product, *service, *category;
	unsigned c;

	if (!ls || ls->type != YAML_MAPPING_NODE)
		return fail(p, RF_RULE_INVALID, ls, "'logsource' must be a map");
	product = map_str(p, ls, "product");
	service = map_str(p, ls, "service");
	category = map_str(p, ls, "category");
	if (product && strcmp(product, "linux"))
		return fail(p, RF_RULE_UNSUPPORTED, ls, "product '%s': ringfence sees Linux events only", product);
	if (service)
		return fail(p, RF_RULE_UNSUPPORTED, ls,
			    "service '%s': log services are not fed by the ringfence sensor (it produces process, file and network events)",
			    service);
	if (!category)
		return fail(p, RF_RULE_UNSUPPORTED, ls,
			    "logsource has no category: rules on raw Linux log lines (syslog, shell history) need a log source the sensor does not produce");
	for (c = 0; c < RF_CLASSES_MAX; c++) {
		const struct rf_class_desc *cd = rf_schema_class(c);
		if (cd && cd->sigma_category && !strcmp(cd->sigma_category, category))
			p->classes |= 1ull << c;
	}
	if (!p->classes)
		return fail(p, RF_RULE_UNSUPPORTED, ls, "category '%s': no event class of the sensor feeds it", category);
	p->category = category;
	return 0;
}

static int str_list(struct pctx *p, yaml_node_t *v, char ***out, unsigned *n, unsigned max,
		    const char *what)
{
	yaml_node_item_t *it;
	char **a;

	*out = NULL;
	*n = 0;
	if (!v)
		return 0;
	if (is_scalar(v)) {
		if (!(a = calloc(1, sizeof(*a))) || !(a[0] = strdup(sval(v)))) {
			free(a);
			return fail(p, RF_RULE_INVALID, v, "out of memory");
		}
		*out = a;
		*n = 1;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, RF_RULE_INVALID, v, "'%s' must be a list of strings", what);
	a = calloc(max, sizeof(*a));
	if (!a)
		return fail(p, RF_RULE_INVALID, v, "out of memory");
	*out = a;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node_get(p, *it);
		if (!e)
			return -EINVAL;
		if (!is_scalar(e))
			return fail(p, RF_RULE_INVALID, e, "'%s' must be a list of strings", what);
		if (*n >= max)
			return fail(p, RF_RULE_INVALID, e, "more than %u entries in '%s'", max, what);
		if (!(a[*n] = strdup(sval(e))))
			return fail(p, RF_RULE_INVALID, e, "out of memory");
		(*n)++;
	}
	return 0;
}

static int parse_correlation(struct pctx *p, yaml_node_t *root, yaml_node_t *cn)
{
	struct corr *c;
	const char *type, *span;
	yaml_node_t *v;
	char **gb = NULL;
	unsigned ngb = 0, i;
	char *end;
	long long num;
	int r;

	if (!cn || cn->type != YAML_MAPPING_NODE)
		return fail(p, RF_RULE_INVALID, cn, "'correlation' must be a map");
	c = calloc(1, sizeof(*c));
	if (!c)
		return fail(p, RF_RULE_INVALID, cn, "out of memory");
	p->r->corr = c;
	type = map_str(p, cn, "type");
	if (!type)
		return fail(p, RF_RULE_INVALID, cn, "correlation has no 'type'");
	if (!strcmp(type, "event_count")) c->type = C_EVENT_COUNT;
	else if (!strcmp(type, "value_count")) c->type = C_VALUE_COUNT;
	else if (!strcmp(type, "temporal")) c->type = C_TEMPORAL;
	else if (!strcmp(type, "temporal_ordered")) c->type = C_TEMPORAL_ORDERED;
	else if (!strcmp(type, "value_sum") || !strcmp(type, "value_avg") || !strcmp(type, "value_percentile"))
		return fail(p, RF_RULE_UNSUPPORTED, map_get(p, cn, "type"), "correlation type '%s' is not supported", type);
	else
		return fail(p, RF_RULE_INVALID, map_get(p, cn, "type"), "unknown correlation type '%s'", type);
	v = map_get(p, cn, "rules");
	if (!v)
		return fail(p, RF_RULE_INVALID, cn, "correlation has no 'rules'");
	if ((r = str_list(p, v, &c->refs, &c->nrefs, RF_CORR_RULES_MAX, "rules")) < 0)
		return r;
	if (!c->nrefs)
		return fail(p, RF_RULE_INVALID, v, "correlation 'rules' is empty");
	if ((c->type == C_TEMPORAL || c->type == C_TEMPORAL_ORDERED) && c->nrefs < 2)
		return fail(p, RF_RULE_INVALID, v, "a temporal correlation needs at least two rules");
	v = map_get(p, cn, "group-by");
	if ((r = str_list(p, v, &gb, &ngb, RF_CORR_GROUPBY_MAX, "group-by")) < 0) {
		for (i = 0; gb && i < RF_CORR_GROUPBY_MAX; i++)
			free(gb[i]);
		free(gb);
		return r;
	}
	for (i = 0; i < ngb; i++)
		c->groupby[i] = gb[i];
	c->ngroupby = ngb;
	free(gb);
	span = map_str(p, cn, "timespan");
	if (!span)
		return fail(p, RF_RULE_INVALID, cn, "correlation has no 'timespan'");
	errno = 0;
	num = strtoll(span, &end, 10);
	if (num <= 0 || errno || end == span || strlen(end) != 1 || !strchr("smhd", *end) || num > 366ll * 86400)
		return fail(p, RF_RULE_INVALID, map_get(p, cn, "timespan"), "timespan '%s' is not a number followed by s, m, h or d", span);
	c->span_ns = (uint64_t)num * 1000000000ull * (*end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : 86400);
	v = map_get(p, cn, "condition");
	if (v) {
		yaml_node_pair_t *pr;
		if (v->type != YAML_MAPPING_NODE)
			return fail(p, RF_RULE_INVALID, v, "correlation condition must be a map (gt, gte, lt, lte, eq, neq, field)");
		for (pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = node_get(p, pr->key), *x = node_get(p, pr->value);
			static const char *ops[] = {"gt", "gte", "lt", "lte", "eq", "neq"};
			int64_t *dst[] = {&c->gt, &c->gte, &c->lt, &c->lte, &c->eq, &c->neq};
			unsigned o;
			if (!k || !x)
				return -EINVAL;
			if (!is_scalar(k) || !is_scalar(x))
				return fail(p, RF_RULE_INVALID, k, "correlation condition entries are 'op: number'");
			if (!strcmp(sval(k), "field")) {
				free(c->value_field);
				c->value_field = strdup(sval(x));
				continue;
			}
			for (o = 0; o < 6 && strcmp(sval(k), ops[o]); o++)
				;
			if (o == 6)
				return fail(p, RF_RULE_INVALID, k, "unknown correlation condition '%s'", sval(k));
			errno = 0;
			num = strtoll(sval(x), &end, 10);
			if (*end || end == sval(x) || errno || num < 0 || num > INT32_MAX)
				return fail(p, RF_RULE_INVALID, x, "correlation condition '%s' needs a non-negative integer", sval(k));
			*dst[o] = num;
			c->condmask |= 1u << o;
		}
		c->has_cond = c->condmask != 0;
	}
	if ((c->type == C_EVENT_COUNT || c->type == C_VALUE_COUNT) && !c->has_cond)
		return fail(p, RF_RULE_INVALID, cn, "%s needs a condition", type);
	if (c->type == C_VALUE_COUNT && !c->value_field)
		return fail(p, RF_RULE_INVALID, cn, "value_count needs 'field' in its condition");
	if ((c->type == C_EVENT_COUNT || c->type == C_VALUE_COUNT) &&
	    (((c->condmask & 1) && c->gt >= RF_CORR_EVENTS_MAX) || ((c->condmask & 2) && c->gte > RF_CORR_EVENTS_MAX) ||
	     ((c->condmask & 16) && c->eq > RF_CORR_EVENTS_MAX)))
		return fail(p, RF_RULE_UNSUPPORTED, v, "correlation threshold above %u events", RF_CORR_EVENTS_MAX);
	v = map_get(p, cn, "aliases");
	if (v) {
		yaml_node_pair_t *pr, *pr2;
		unsigned cap = 0;
		if (v->type != YAML_MAPPING_NODE)
			return fail(p, RF_RULE_INVALID, v, "'aliases' must be a map");
		for (pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = node_get(p, pr->key), *m = node_get(p, pr->value);
			if (!k || !m)
				return -EINVAL;
			if (!is_scalar(k) || m->type != YAML_MAPPING_NODE)
				return fail(p, RF_RULE_INVALID, k, "an alias maps rule names to field names");
			for (pr2 = m->data.mapping.pairs.start; pr2 < m->data.mapping.pairs.top; pr2++) {
				yaml_node_t *rk = node_get(p, pr2->key), *fv = node_get(p, pr2->value);
				if (!rk || !fv)
					return -EINVAL;
				if (!is_scalar(rk) || !is_scalar(fv))
					return fail(p, RF_RULE_INVALID, rk, "an alias maps rule names to field names");
				if (c->naliases == cap) {
					void *a, *b, *d;
					if (cap >= RF_CORR_RULES_MAX * RF_CORR_GROUPBY_MAX)
						return fail(p, RF_RULE_INVALID, rk, "too many aliases");
					cap = cap ? cap * 2 : 8;
					a = realloc(c->alias_name, cap * sizeof(char *));
					if (a) c->alias_name = a;
					b = realloc(c->alias_rule, cap * sizeof(char *));
					if (b) c->alias_rule = b;
					d = realloc(c->alias_field, cap * sizeof(char *));
					if (d) c->alias_field = d;
					if (!a || !b || !d)
						return fail(p, RF_RULE_INVALID, rk, "out of memory");
				}
				c->alias_name[c->naliases] = strdup(sval(k));
				c->alias_rule[c->naliases] = strdup(sval(rk));
				c->alias_field[c->naliases] = strdup(sval(fv));
				c->naliases++;
			}
		}
	}
	v = map_get(p, cn, "generate");
	if (!v)
		v = map_get(p, root, "generate");
	if (v) {
		int b = as_bool(v);
		if (b < 0)
			return fail(p, RF_RULE_INVALID, v, "'generate' takes true or false");
		c->generate = b;
	}
	return 0;
}

static void rule_release(struct rule *r)
{
	unsigned i;

	free(r->file);
	free(r->id);
	free(r->name);
	free(r->title);
	free(r->level);
	for (i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	free(r->tags);
	free(r->corrs);
	free(r->code);
	free(r->masks);
	if (r->corr) {
		struct corr *c = r->corr;
		for (i = 0; i < c->nrefs; i++)
			free(c->refs[i]);
		free(c->refs);
		free(c->ref_rule);
		for (i = 0; i < c->ngroupby; i++)
			free(c->groupby[i]);
		for (i = 0; i < c->naliases; i++) {
			free(c->alias_name[i]);
			free(c->alias_rule[i]);
			free(c->alias_field[i]);
		}
		free(c->alias_name);
		free(c->alias_rule);
		free(c->alias_field);
		free(c->value_field);
		rf_corr_free_groups_(c);
		free(c->groups);
		free(c);
	}
	memset(r, 0, sizeof(*r));
}

void rf_detect_rule_release_(struct rule *r);
void rf_detect_rule_release_(struct rule *r)
{
	rule_release(r);
}
void rf_detect_atom_release_(struct atom *a);
void rf_detect_atom_release_(struct atom *a)
{
	atom_release(a);
}

static void parse_rule_doc(struct pctx *p, yaml_node_t *root)
{
	struct rule *r = p->r;
	yaml_node_t *v;
	const char *s;
	int rr;

	if (!root || root->type != YAML_MAPPING_NODE) {
		fail(p, RF_RULE_INVALID, root, "a rule must be a YAML map");
		return;
	}
	p->line = (unsigned)root->start_mark.line + 1;
	p->col = (unsigned)root->start_mark.column + 1;
	r->line = p->line;
	r->col = p->col;
	if ((s = map_str(p, root, "id")))
		r->id = strdup(s);
	if ((s = map_str(p, root, "name")))
		r->name = strdup(s);
	if ((s = map_str(p, root, "title")))
		r->title = strdup(s);
	if ((s = map_str(p, root, "level")))
		r->level = strdup(s);
	if (p->status)
		return;
	if (!r->title) {
		fail(p, RF_RULE_INVALID, root, "rule has no 'title'");
		return;
	}
	if (r->level && strcmp(r->level, "informational") && strcmp(r->level, "low") &&
	    strcmp(r->level, "medium") && strcmp(r->level, "high") && strcmp(r->level, "critical")) {
		fail(p, RF_RULE_INVALID, map_get(p, root, "level"),
		     "level '%s' is not one of informational, low, medium, high, critical", r->level);
		return;
	}
	if ((rr = str_list(p, map_get(p, root, "tags"), &r->tags, &r->ntags, 256, "tags")) < 0)
		return;
	if ((v = map_get(p, root, "correlation"))) {
		parse_correlation(p, root, v);
		return;
	}
	if (!(v = map_get(p, root, "logsource"))) {
		if (!p->status)
			fail(p, RF_RULE_INVALID, root, "rule has no 'logsource'");
		return;
	}
	if (parse_logsource(p, v) < 0)
		return;
	r->classes = p->classes;
	if (!(v = map_get(p, root, "detection"))) {
		if (!p->status)
			fail(p, RF_RULE_INVALID, root, "rule has no 'detection'");
		return;
	}
	parse_detection(p, v);
}

static int add_rule_slot(struct rf_detect *d)
{
	if (d->nrules >= RF_RULES_MAX)
		return -E2BIG;
	if (d->nrules == d->caprules) {
		unsigned nc = d->caprules ? d->caprules * 2 : 64;
		void *q = realloc(d->rules, nc * sizeof(*d->rules));
		if (!q)
			return -ENOMEM;
		d->rules = q;
		d->caprules = nc;
	}
	memset(&d->rules[d->nrules], 0, sizeof(d->rules[0]));
	return 0;
}

/* Parse every document of BUF into D; returns 0, or -errno when nothing could be read. */
int rf_detect_parse_doc_(struct rf_detect *d, const char *file, const char *buf, size_t len,
			 struct rf_detect_report *rep)
{
	yaml_parser_t parser;
	int ret = 0;
	unsigned ndoc = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root;
		struct pctx p = {.d = d, .file = file};
		struct rule *r;
		unsigned i;

		if (!yaml_parser_load(&parser, &doc)) {
			char why[300];
			snprintf(why, sizeof(why), "YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			rf_detect_report_add_(rep, file, (unsigned)parser.problem_mark.line + 1,
					      (unsigned)parser.problem_mark.column + 1, NULL, NULL, false,
					      RF_RULE_INVALID, why, NULL);
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) {
			yaml_document_delete(&doc);
			if (!ndoc)
				rf_detect_report_add_(rep, file, 1, 1, NULL, NULL, false, RF_RULE_INVALID,
						      "empty file: no YAML document", NULL);
			break;
		}
		ndoc++;
		if ((ret = add_rule_slot(d)) < 0) {
			rf_detect_report_add_(rep, file, (unsigned)root->start_mark.line + 1, 1, NULL, NULL, false,
					      RF_RULE_INVALID, ret == -E2BIG ? "too many rules" : "out of memory", NULL);
			yaml_document_delete(&doc);
			break;
		}
		r = &d->rules[d->nrules];
		p.r = r;
		p.doc = &doc;
		r->file = strdup(file);
		parse_rule_doc(&p, root);
		for (i = 0; i < p.nid; i++)
			free(p.idname[i]);
		r->ok = p.status == 0;
		rf_detect_report_add_(rep, file, p.line, p.col, r->id, r->title, r->corr != NULL,
				      p.status, p.status ? p.reason : NULL, &r->rep_index);
		/* keep rules that failed too (a correlation may name them); they never run */
		d->nrules++;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return ret;
}
