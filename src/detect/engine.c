// SPDX-License-Identifier: MIT
/*
 * engine.c: loading rule directories, compiling the matcher, evaluating events.
 *
 * The matcher: for every event class, every field that rules test with strings or
 * regular expressions gets one Hyperscan database holding all of those patterns
 * (all rules, deduplicated). An event's field is scanned once; each match sets the
 * bit of its atom. Tests Hyperscan does not do (numbers, networks, existence, null,
 * field references) are evaluated directly ("eager" atoms). Only rules with at least
 * one atom set, plus the few whose condition holds with every atom false (e.g.
 * `not filter`), have their condition evaluated, on the bitset.
 *
 * The naive evaluator evaluates each rule's condition tree on its own, computing each
 * atom with plain string comparison (glob) and regex.h: no sharing across rules.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect/detect_int.h"
#include "detect/correlate.h"

/* Fields tested by at most this many wildcard patterns are matched without Hyperscan. */
#define DETECT_SMALL_FIELD 4
/* Lazy literals of one field searched for directly in one event before the field's
 * literal database is scanned instead. */
#define DETECT_LAZY_DIRECT 16

void rf_detect_rule_release_(struct rule *r);
void rf_detect_atom_release_(struct atom *a);

struct rf_detect *rf_detect_new(void)
{
	return calloc(1, sizeof(struct rf_detect));
}

void rf_detect_free(struct rf_detect *d)
{
	unsigned i, j;

	if (!d)
		return;
	for (i = 0; i < d->nrules; i++)
		rf_detect_rule_release_(&d->rules[i]);
	free(d->rules);
	for (i = 0; i < d->natoms; i++)
		rf_detect_atom_release_(&d->atoms[i]);
	free(d->atoms);
	free(d->atom_hash);
	for (i = 0; i < d->nnodes; i++) {
		free(d->nodes[i]->kids);
		free(d->nodes[i]);
	}
	free(d->nodes);
	for (i = 0; i < RF_CLASSES_MAX; i++) {
		struct cls *c = &d->cls[i];
		for (j = 0; j < c->nfdbs; j++) {
			hs_free_database(c->fdbs[j].db);
			free(c->fdbs[j].ids);
		}
		free(c->fdbs);
		hs_free_database(c->tcat.db);
		for (j = 0; j < c->tcat.n; j++)
			free(c->tcat.info[j].plit);
		free(c->tcat.info);
		free(c->tcat.buf);
		for (j = 0; j < c->nlcats; j++) {
			hs_free_database(c->lcats[j].db);
			free(c->lcats[j].info);
			free(c->lcats[j].buf);
		}
		free(c->lcats);
		for (j = 0; j < c->nanch; j++) {
			rf_detect_trie_free_(&c->anch[j].fwd);
			rf_detect_trie_free_(&c->anch[j].rev);
		}
		free(c->anch);
		for (j = 0; j < c->nlfdbs; j++) {
			hs_free_database(c->lfdbs[j].db);
			free(c->lfdbs[j].ids);
		}
		free(c->lfdbs);
		free(c->rules);
		free(c->always);
		free(c->eager);
	}
	if (d->scratch)
		hs_free_scratch(d->scratch);
	free(d->bits);
	free(d->alazy);
	free(d->setlist);
	free(d->cand);
	free(d->pending);
	for (i = 0; i < RF_FIELDS_MAX; i++) {
		free(d->fbuf[i]);
		free(d->lcbuf[i]);
	}
	free(d);
}

/* ---- loading ------------------------------------------------------------------ */

int rf_detect_load_buffer(struct rf_detect *d, const char *name, const char *buf, size_t len,
			  struct rf_detect_report *rep)
{
	if (d->mode)
		return -EALREADY;
	if (len > RF_RULE_FILE_MAX) {
		rf_detect_report_add_(rep, name, 0, 0, NULL, NULL, false, RF_RULE_INVALID,
				      "file larger than RF_RULE_FILE_MAX", NULL);
		return 0;
	}
	return rf_detect_parse_doc_(d, name, buf, len, rep);
}

int rf_detect_load_file(struct rf_detect *d, const char *path, struct rf_detect_report *rep)
{
	struct stat st;
	char *buf = NULL, why[300];
	ssize_t n;
	size_t got = 0;
	int fd, r;

	if (d->mode)
		return -EALREADY;
	if (++d->nfiles > RF_RULE_FILES_MAX) {
		rf_detect_report_add_(rep, path, 0, 0, NULL, NULL, false, RF_RULE_INVALID,
				      "too many rule files (RF_RULE_FILES_MAX)", NULL);
		return -E2BIG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > RF_RULE_FILE_MAX) {
		r = -EFBIG;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	fd = -1;
	buf[got] = 0;
	r = rf_detect_parse_doc_(d, path, buf, got, rep);
	free(buf);
	return r;
fail:
	if (fd >= 0)
		close(fd);
	snprintf(why, sizeof(why), "cannot read the file: %s", strerror(-r));
	rf_detect_report_add_(rep, path, 0, 0, NULL, NULL, false, RF_RULE_INVALID, why, NULL);
	return r;
}

static int is_rule_file(const char *n)
{
	size_t l = strlen(n);

	if (n[0] == '.')
		return 0;
	return (l > 4 && !strcmp(n + l - 4, ".yml")) || (l > 5 && !strcmp(n + l - 5, ".yaml"));
}

static int load_dir(struct rf_detect *d, const char *dir, unsigned depth, struct rf_detect_report *rep)
{
	struct dirent **ents = NULL;
	int n, i, r = 0, r2;
	char why[300];

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0) {
		r = -errno;
		snprintf(why, sizeof(why), "cannot read the directory: %s", strerror(errno));
		rf_detect_report_add_(rep, dir, 0, 0, NULL, NULL, false, RF_RULE_INVALID, why, NULL);
		return r;
	}
	for (i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		const char *nm = ents[i]->d_name;

		if (r == 0 && nm[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, nm) < (int)sizeof(path) &&
		    lstat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				if (depth < RF_RULE_DIR_DEPTH_MAX && (r2 = load_dir(d, path, depth + 1, rep)) < 0)
					r = r2 == -E2BIG ? r2 : r;
			} else if (S_ISREG(st.st_mode) && is_rule_file(nm)) {
				r2 = rf_detect_load_file(d, path, rep);
				if (r2 == -E2BIG || r2 == -ENOMEM)
					r = r2;
			}
		}
		free(ents[i]);
	}
	free(ents);
	return r;
}

int rf_detect_load_dir(struct rf_detect *d, const char *dir, struct rf_detect_report *rep)
{
	struct stat st;

	if (d->mode)
		return -EALREADY;
	if (stat(dir, &st) == 0 && S_ISREG(st.st_mode))
		return rf_detect_load_file(d, dir, rep);
	return load_dir(d, dir, 0, rep);
}

/* ---- compile ------------------------------------------------------------------- */

static int push_int(int **v, unsigned *n, int x)
{
	/* grow at powers of two */
	if ((*n & (*n - 1)) == 0 || *n == 0) {
		unsigned nc = *n ? *n * 2 : 4;
		void *q = realloc(*v, nc * sizeof(int));
		if (!q)
			return -ENOMEM;
		*v = q;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static void invalidate(struct rf_detect *d, struct rule *r, int status, const char *why,
		       struct rf_detect_report *rep)
{
	(void)d;
	if (!r->ok)
		return;
	r->ok = false;
	rf_detect_report_set_(rep, r->rep_index, status, why);
}

/* Collect the atoms of a tree (DAG) into the rule's atom lists; mark visited nodes
 * with a temporary k of -1? No: atoms may repeat, duplicates are harmless. */
static int collect_atoms(struct rf_detect *d, int ri, const struct node *n, unsigned depth)
{
	unsigned i;
	int r;

	if (depth > RF_RULE_DEPTH_MAX + 8)
		return -ELOOP;
	if (n->kind == N_ATOM) {
		struct atom *a = &d->atoms[n->atom];
		if (a->nrules && a->rules[a->nrules - 1] == ri)
			return 0;
		return push_int(&a->rules, &a->nrules, ri);
	}
	for (i = 0; i < n->n; i++)
		if ((r = collect_atoms(d, ri, n->kids[i], depth + 1)) < 0)
			return r;
	return 0;
}

/* Three-valued (Kleene) evaluation: atoms marked in KNOWN are false, the others
 * unknown. Returns 0 false, 1 true, 2 unknown. Sound: 0 means false whatever the
 * unknown atoms are. */
static int eval3(const struct node *n, const uint8_t *known, unsigned depth)
{
	unsigned i, t = 0, u = 0;
	int v;

	if (depth > RF_RULE_DEPTH_MAX + 8)
		return 2;
	switch (n->kind) {
	case N_ATOM: return known[n->atom] ? 0 : 2;
	case N_CONST: return n->k ? 1 : 0;
	case N_NOT:
		v = eval3(n->kids[0], known, depth + 1);
		return v == 2 ? 2 : !v;
	case N_AND:
		for (i = 0; i < n->n; i++) {
			v = eval3(n->kids[i], known, depth + 1);
			if (v == 0)
				return 0;
			u += v == 2;
		}
		return u ? 2 : 1;
	case N_OR:
		for (i = 0; i < n->n; i++) {
			v = eval3(n->kids[i], known, depth + 1);
			if (v == 1)
				return 1;
			u += v == 2;
		}
		return u ? 2 : 0;
	case N_ATLEAST:
		for (i = 0; i < n->n; i++) {
			v = eval3(n->kids[i], known, depth + 1);
			t += v == 1;
			u += v == 2;
		}
		if (t >= (unsigned)n->k)
			return 1;
		return t + u >= (unsigned)n->k ? 2 : 0;
	}
	return 2;
}

static bool uses_hs(const struct atom *a);

static void rule_atoms(const struct node *n, int *out, unsigned *nout, unsigned max, unsigned depth)
{
	unsigned i;

	if (depth > RF_RULE_DEPTH_MAX + 8)
		return;
	if (n->kind == N_ATOM) {
		for (i = 0; i < *nout; i++)
			if (out[i] == n->atom)
				return;
		if (*nout < max)
			out[(*nout)++] = n->atom;
		return;
	}
	for (i = 0; i < n->n; i++)
		rule_atoms(n->kids[i], out, nout, max, depth + 1);
}

/* Longest run of literal bytes in a pattern (regular expressions: 2, a guess). */
static size_t literal_run(const struct atom *a)
{
	size_t i, run = 0, best = 0;

	if (a->kind == A_RE || !a->tok)
		return 2;
	for (i = 0; i < a->ntok; i++) {
		if (a->tok[i] < 256) {
			if (++run > best)
				best = run;
		} else {
			run = 0;
		}
	}
	return best;
}

/* Cost of scanning a field, for choosing trigger fields: paths are short, command
 * lines long. */
static int field_cost(const struct rule *r, const char *field)
{
	unsigned c;

	if (!field)
		return 4; /* keywords: every string field */
	for (c = 0; c < RF_CLASSES_MAX; c++) {
		const struct rf_class_desc *cd;
		int k;
		if (!(r->classes >> c & 1) || !(cd = rf_schema_class(c)))
			continue;
		k = rf_schema_field_by_sigma(cd, field);
		if (k < 0)
			continue;
		if (cd->fields[k].source == RF_FS_DERIVED || cd->fields[k].max > 256)
			return cd->fields[k].type == RF_FT_PATH ? 2 : 3;
		return 1;
	}
	return 4;
}

/* Choose, for each rule, the atoms that must be scanned so that the rule becomes a
 * candidate whenever it can match: the non-pattern atoms plus the patterns of one
 * field, when the rule is false with all of those false (checked with eval3);
 * otherwise every atom. Patterns that no rule needs as a trigger become lazy. */
static int choose_triggers(struct rf_detect *d)
{
	uint8_t *known = calloc(d->natoms ? d->natoms : 1, 1);
	int ids[512];
	unsigned i, j, k, n;

	if (!known)
		return -ENOMEM;
	for (i = 0; i < d->nrules; i++) {
		struct rule *r = &d->rules[i];
		const char *best = NULL, *fields[64];
		bool have_best = false, kw = false;
		unsigned nf = 0;
		int bestcost = 1 << 30;

		if (!r->ok || r->corr)
			continue;
		n = 0;
		rule_atoms(r->cond, ids, &n, sizeof(ids) / sizeof(ids[0]), 0);
		if (n == sizeof(ids) / sizeof(ids[0])) {
			for (j = 0; j < n; j++)
				d->atoms[ids[j]].trigger = true; /* and no trules: the rule is always a candidate */
			/* too many to reason about: the rule's atoms may lie beyond ids[] */
			r->always = true;
			continue;
		}
		for (j = 0; j < n; j++) {
			struct atom *a = &d->atoms[ids[j]];
			if (!uses_hs(a))
				continue;
			if (!a->field) {
				kw = true;
				continue;
			}
			for (k = 0; k < nf && strcmp(fields[k], a->field); k++)
				;
			if (k == nf && nf < 64)
				fields[nf++] = a->field;
		}
		for (k = 0; k <= nf; k++) {
			const char *f = k < nf ? fields[k] : NULL;
			int cost;
			if (k == nf && !kw)
				break;
			for (j = 0; j < n; j++) {
				struct atom *a = &d->atoms[ids[j]];
				known[ids[j]] = !uses_hs(a) || (f ? a->field && !strcmp(a->field, f) : !a->field);
			}
			/* Prefer the field whose weakest pattern is the most selective: a
			 * short literal ('/cat') makes the rule a candidate often, a long
			 * one ('/etc/shadow') rarely. Field length breaks ties. */
			cost = field_cost(r, f);
			{
				size_t minrun = (size_t)-1;
				for (j = 0; j < n; j++) {
					struct atom *a = &d->atoms[ids[j]];
					if (uses_hs(a) && (f ? a->field && !strcmp(a->field, f) : !a->field)) {
						size_t run = literal_run(a);
						if (run < minrun)
							minrun = run;
					}
				}
				if (minrun > 16)
					minrun = 16;
				cost += 100 - 4 * (int)minrun;
			}
			if (eval3(r->cond, known, 0) == 0 && cost < bestcost) {
				best = f;
				have_best = true;
				bestcost = cost;
			}
			for (j = 0; j < n; j++)
				known[ids[j]] = 0;
		}
		/* The start set: the chosen field's patterns and the atoms that are not
		 * patterns, or, without a field, every atom. */
		for (j = 0; j < n; j++) {
			struct atom *a = &d->atoms[ids[j]];
			known[ids[j]] = !have_best || !uses_hs(a) ||
					(best ? a->field && !strcmp(a->field, best) : !a->field);
		}
		/* Then drop every pattern the proof does not need, least selective
		 * (shortest literal) first: in `(file and 1 of cmd_*) or 1 of unique_*`
		 * the short `-c ` and `0 ` of cmd_* made the rule a candidate on most
		 * command lines, although `file` ('/var/log/syslog') must hold too.
		 * Dropped patterns become lazy. */
		if (eval3(r->cond, known, 0) == 0) {
			unsigned order[sizeof(ids) / sizeof(ids[0])], o;
			for (j = 0; j < n; j++) {
				size_t run = literal_run(&d->atoms[ids[j]]);
				for (o = j; o > 0 && literal_run(&d->atoms[ids[order[o - 1]]]) > run; o--)
					order[o] = order[o - 1];
				order[o] = j;
			}
			for (o = 0; o < n; o++) {
				int id = ids[order[o]];
				if (!known[id] || !uses_hs(&d->atoms[id]))
					continue;
				known[id] = 0;
				if (eval3(r->cond, known, 0) != 0)
					known[id] = 1;
			}
		}
		for (j = 0; j < n; j++) {
			struct atom *a = &d->atoms[ids[j]];
			if (known[ids[j]]) {
				a->trigger = true;
				if (push_int(&a->trules, &a->ntrules, (int)i) < 0) {
					free(known);
					return -ENOMEM;
				}
			}
			known[ids[j]] = 0;
		}
	}
	free(known);
	for (i = 0; i < d->natoms; i++) {
		struct atom *a = &d->atoms[i];
		a->lazy = a->nrules && uses_hs(a) && !a->trigger && a->kind != A_KEYWORD;
	}
	return 0;
}

/* Condition value with every atom false. */
static bool eval_allfalse(const struct node *n, unsigned depth)
{
	unsigned i, c = 0;

	if (depth > RF_RULE_DEPTH_MAX + 8)
		return false;
	switch (n->kind) {
	case N_ATOM: return false;
	case N_CONST: return n->k;
	case N_NOT: return !eval_allfalse(n->kids[0], depth + 1);
	case N_AND:
		for (i = 0; i < n->n; i++)
			if (!eval_allfalse(n->kids[i], depth + 1))
				return false;
		return true;
	case N_OR:
		for (i = 0; i < n->n; i++)
			if (eval_allfalse(n->kids[i], depth + 1))
				return true;
		return false;
	case N_ATLEAST:
		for (i = 0; i < n->n; i++)
			c += eval_allfalse(n->kids[i], depth + 1);
		return c >= (unsigned)n->k;
	}
	return false;
}

static int resolve_correlations(struct rf_detect *d, struct rf_detect_report *rep)
{
	unsigned i, j, k;
	char why[400];

	for (i = 0; i < d->nrules; i++) {
		struct rule *r = &d->rules[i];
		struct corr *c = r->corr;
		if (!c || !r->ok)
			continue;
		c->ref_rule = calloc(c->nrefs, sizeof(int));
		if (!c->ref_rule)
			return -ENOMEM;
		for (j = 0; j < c->nrefs; j++) {
			int found = -1;
			for (k = 0; k < d->nrules; k++) {
				struct rule *b = &d->rules[k];
				if ((b->id && !strcmp(b->id, c->refs[j])) || (b->name && !strcmp(b->name, c->refs[j]))) {
					found = (int)k;
					break;
				}
			}
			if (found < 0) {
				snprintf(why, sizeof(why), "correlation names rule '%s', which is not loaded", c->refs[j]);
				invalidate(d, r, RF_RULE_INVALID, why, rep);
				break;
			}
			if (d->rules[found].corr) {
				snprintf(why, sizeof(why), "correlation of correlations ('%s') is not supported", c->refs[j]);
				invalidate(d, r, RF_RULE_UNSUPPORTED, why, rep);
				break;
			}
			if (!d->rules[found].ok) {
				snprintf(why, sizeof(why), "correlation names rule '%s', which did not compile", c->refs[j]);
				invalidate(d, r, RF_RULE_UNSUPPORTED, why, rep);
				break;
			}
			c->ref_rule[j] = found;
		}
		if (!r->ok)
			continue;
		/* group-by and value fields must exist for every referenced rule */
		for (j = 0; j < c->nrefs && r->ok; j++) {
			struct rule *b = &d->rules[c->ref_rule[j]];
			unsigned g;
			for (g = 0; g <= c->ngroupby && r->ok; g++) {
				const char *f = g < c->ngroupby ? c->groupby[g] : c->value_field;
				unsigned a, cl;
				bool ok = false;
				if (!f)
					continue;
				for (a = 0; a < c->naliases; a++)
					if (!strcmp(c->alias_name[a], f) && b->name && !strcmp(c->alias_rule[a], b->name))
						f = c->alias_field[a];
				for (cl = 0; cl < RF_CLASSES_MAX; cl++)
					if ((b->classes >> cl & 1) && rf_schema_field_by_sigma(rf_schema_class(cl), f) >= 0)
						ok = true;
				if (!ok) {
					snprintf(why, sizeof(why), "field '%s' does not exist in the event schema for the events of rule '%s'",
						 f, c->refs[j]);
					invalidate(d, r, RF_RULE_INVALID, why, rep);
				}
			}
		}
		if (!r->ok)
			continue;
		for (j = 0; j < c->nrefs; j++) {
			struct rule *b = &d->rules[c->ref_rule[j]];
			if (push_int(&b->corrs, &b->ncorrs, (int)i) < 0)
				return -ENOMEM;
		}
	}
	/* a rule only referenced by correlations without `generate: true` stays quiet */
	for (i = 0; i < d->nrules; i++) {
		struct rule *r = &d->rules[i];
		r->emit = r->corr || !r->ncorrs;
		for (j = 0; j < r->ncorrs; j++)
			if (d->rules[r->corrs[j]].corr->generate)
				r->emit = true;
	}
	return 0;
}

static unsigned re_hsflags(const struct atom *a)
{
	unsigned f = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;

	if (a->reflags & REF_I)
		f |= HS_FLAG_CASELESS;
	if (a->reflags & REF_M)
		f |= HS_FLAG_MULTILINE;
	if (a->reflags & REF_S)
		f |= HS_FLAG_DOTALL;
	return f;
}

static bool uses_hs(const struct atom *a)
{
	return (a->kind == A_GLOB && !a->can_empty) || a->kind == A_RE ||
	       (a->kind == A_KEYWORD && !a->can_empty);
}

static bool is_keyword_field(const struct rf_field_desc *f)
{
	return f->type == RF_FT_STR || f->type == RF_FT_PATH;
}

static struct fdb *fdb_for(struct fdb **fdbs, unsigned *n, int field)
{
	unsigned i;
	void *q;

	for (i = 0; i < *n; i++)
		if ((*fdbs)[i].field == field)
			return &(*fdbs)[i];
	q = realloc(*fdbs, (*n + 1) * sizeof(**fdbs));
	if (!q)
		return NULL;
	*fdbs = q;
	memset(&(*fdbs)[*n], 0, sizeof(**fdbs));
	(*fdbs)[*n].field = field;
	return &(*fdbs)[(*n)++];
}

/* Build one database; on a pattern Hyperscan refuses, mark that atom dead, its rules
 * invalid, and retry without it. */
/* A pattern that is one literal, with or without a star at either end. */
static bool simple_literal(const struct atom *a, uint8_t *anch, size_t *from, size_t *len)
{
	size_t i, b = 0, e = a->ntok;

	if (a->kind != A_GLOB && a->kind != A_KEYWORD)
		return false;
	if (e && a->tok[0] == TOK_STAR)
		b = 1;
	if (e > b && a->tok[e - 1] == TOK_STAR)
		e--;
	if (e <= b)
		return false;
	for (i = b; i < e; i++)
		if (a->tok[i] >= 256)
			return false;
	*anch = (uint8_t)((b == 0 ? 1 : 0) | (e == a->ntok ? 2 : 0));
	*from = b;
	*len = e - b;
	return true;
}

static void kill_atom(struct rf_detect *d, const struct rf_class_desc *cd, struct atom *a,
		      const char *msg, struct rf_detect_report *rep)
{
	char why[600];
	unsigned k;

	a->dead = true;
	snprintf(why, sizeof(why), "pattern on %s.%s refused by Hyperscan: %s", cd->name,
		 a->field ? a->field : "*", msg);
	for (k = 0; k < a->nrules; k++)
		invalidate(d, &d->rules[a->rules[k]], RF_RULE_INVALID, why, rep);
}

/* Build the database of a field's wildcard patterns and regular expressions (plain
 * literals are in the class's literal databases); on a pattern Hyperscan refuses,
 * mark that atom dead, its rules invalid, and retry without it. */
static int build_fdb(struct rf_detect *d, const struct rf_class_desc *cd, struct fdb *f,
		     struct rf_detect_report *rep)
{
	unsigned cnt = f->n ? f->n : 1, i, n;
	const char **exprs = calloc(cnt, sizeof(char *));
	unsigned *flags = calloc(cnt, sizeof(unsigned)), *ids = calloc(cnt, sizeof(unsigned));
	char **owned = calloc(cnt, sizeof(char *));
	int ret = 0;

	if (!exprs || !flags || !ids || !owned) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < f->n; i++) {
		struct atom *a = &d->atoms[f->ids[i]];
		if (a->kind != A_RE && rf_detect_glob_to_hs_(a->tok, a->ntok, &owned[i]) < 0) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (;;) {
		hs_compile_error_t *err = NULL;
		n = 0;
		f->empty_matches = false;
		for (i = 0; i < f->n; i++) {
			struct atom *a = &d->atoms[f->ids[i]];
			if (a->dead)
				continue;
			if (a->kind == A_RE) {
				exprs[n] = a->re;
				flags[n] = re_hsflags(a);
			} else {
				exprs[n] = owned[i];
				flags[n] = HS_FLAG_SINGLEMATCH | HS_FLAG_DOTALL | (a->cased ? 0 : HS_FLAG_CASELESS);
			}
			ids[n++] = i;
		}
		if (f->db)
			hs_free_database(f->db);
		f->db = NULL;
		if (!n)
			goto out;
		if (hs_compile_multi(exprs, flags, ids, n, HS_MODE_BLOCK, NULL, &f->db, &err) == HS_SUCCESS) {
			/* does any pattern match the empty value? then empty values are scanned too */
			for (i = 0; i < n; i++) {
				hs_expr_info_t *info = NULL;
				hs_compile_error_t *e2 = NULL;
				if (hs_expression_info(exprs[i], flags[i], &info, &e2) == HS_SUCCESS) {
					if (info->min_width == 0)
						f->empty_matches = true;
					free(info);
				} else {
					hs_free_compile_error(e2);
				}
			}
			goto out;
		}
		if (err && err->expression >= 0 && (unsigned)err->expression < n) {
			kill_atom(d, cd, &d->atoms[f->ids[ids[err->expression]]], err->message, rep);
			hs_free_compile_error(err);
			continue;
		}
		hs_free_compile_error(err);
		ret = -EINVAL;
		goto out;
	}
out:
	for (i = 0; owned && i < f->n; i++)
		free(owned[i]);
	free(owned);
	free(exprs);
	free(flags);
	free(ids);
	return ret;
}

/* Add atom A's literal, tested on field FIELD, to CAT. */
static int cat_add(struct catdb *cat, const struct rf_class_desc *cd, int atom, const struct atom *a, int field)
{
	unsigned s;
	uint8_t an;
	size_t from, len;
	const struct rf_field_desc *f = &cd->fields[field];

	if (!simple_literal(a, &an, &from, &len))
		return -EINVAL;
	for (s = 0; s < cat->nslots && cat->slot_field[s] != field; s++)
		;
	if (s == cat->nslots) {
		if (s >= RF_FIELDS_MAX)
			return -E2BIG;
		cat->slot_field[cat->nslots++] = (int16_t)field;
		cat->bufsz += (f->source == RF_FS_DERIVED ? RF_ARGV_MAX + 64 : f->max ? f->max : 64) + 1;
	}
	if (cat->n == cat->cap) {
		unsigned nc = cat->cap ? cat->cap * 2 : 64;
		void *q = realloc(cat->info, nc * sizeof(*cat->info));
		if (!q)
			return -ENOMEM;
		cat->info = q;
		cat->cap = nc;
	}
	memset(&cat->info[cat->n], 0, sizeof(cat->info[0]));
	cat->info[cat->n].atom = atom;
	cat->info[cat->n].slot = (uint16_t)s;
	cat->info[cat->n].anch = an;
	cat->info[cat->n].llen = (uint32_t)len;
	cat->n++;
	return 0;
}

static int build_cat(struct rf_detect *d, const struct rf_class_desc *cd, struct catdb *cat,
		     struct rf_detect_report *rep)
{
	unsigned cnt = cat->n ? cat->n : 1, i, n;
	char **lits = calloc(cnt, sizeof(char *));
	const char **use = calloc(cnt, sizeof(char *));
	unsigned *flags = calloc(cnt, sizeof(unsigned)), *ids = calloc(cnt, sizeof(unsigned));
	size_t *lens = calloc(cnt, sizeof(size_t));
	int ret = 0;

	cat->buf = malloc(cat->bufsz + 1);
	if (!lits || !use || !flags || !ids || !lens || !cat->buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cat->n; i++) {
		const struct atom *a = &d->atoms[cat->info[i].atom];
		uint8_t an;
		size_t from, len, k;
		if (cat->info[i].pre) {
			lits[i] = NULL;
			continue;
		}
		if (!simple_literal(a, &an, &from, &len) || !(lits[i] = malloc(len + 1))) {
			ret = -ENOMEM;
			goto out;
		}
		for (k = 0; k < len; k++)
			lits[i][k] = (char)a->tok[from + k];
		lits[i][len] = 0;
	}
	for (;;) {
		hs_compile_error_t *err = NULL;
		n = 0;
		for (i = 0; i < cat->n; i++) {
			const struct atom *a = &d->atoms[cat->info[i].atom];
			if (a->dead)
				continue;
			use[n] = cat->info[i].pre ? cat->info[i].plit : lits[i];
			lens[n] = cat->info[i].llen;
			flags[n] = cat->info[i].pre ? (cat->info[i].caseless ? HS_FLAG_CASELESS : 0)
						    : a->cased ? 0 : HS_FLAG_CASELESS;
			ids[n++] = i;
		}
		if (cat->db)
			hs_free_database(cat->db);
		cat->db = NULL;
		if (!n)
			goto out;
		if (hs_compile_lit_multi(use, flags, ids, lens, n, HS_MODE_BLOCK, NULL, &cat->db, &err) == HS_SUCCESS)
			goto out;
		if (err && err->expression >= 0 && (unsigned)err->expression < n) {
			kill_atom(d, cd, &d->atoms[cat->info[ids[err->expression]].atom], err->message, rep);
			hs_free_compile_error(err);
			continue;
		}
		hs_free_compile_error(err);
		ret = -EINVAL;
		goto out;
	}
out:
	for (i = 0; lits && i < cat->n; i++)
		free(lits[i]);
	free(lits);
	free(use);
	free(flags);
	free(ids);
	free(lens);
	return ret;
}

/* Add atom A's anchored literal (ANCH: 1 start, 2 end, 3 both), tested on FIELD.
 * Without CREATE only to a field that has anchored literals already. */
static int anch_add(struct cls *c, int field, int atom, const struct atom *a, uint8_t anch,
		    size_t from, size_t len, bool create)
{
	struct anch *an;

	if (c->anch_of[field] < 0) {
		void *q;
		if (!create)
			return 0;
		q = realloc(c->anch, (c->nanch + 1) * sizeof(*c->anch));
		if (!q)
			return -ENOMEM;
		c->anch = q;
		memset(&c->anch[c->nanch], 0, sizeof(c->anch[0]));
		c->anch[c->nanch].field = field;
		c->anch[c->nanch].rev.rev = true;
		c->anch_of[field] = (int16_t)c->nanch++;
	}
	an = &c->anch[c->anch_of[field]];
	if (anch == 1)
		return rf_detect_trie_add_(&an->fwd, a->tok + from, len, atom, a->cased, false);
	return rf_detect_trie_add_(&an->rev, a->tok + from, len, atom, a->cased, anch == 3);
}

/* Trigger regular expressions with required literals (rf_detect_re_factors_) leave
 * their field's database: their literals join the class's trigger literals (when that
 * field is scanned there anyway), and a hit has the expression scanned on its own. The
 * pnscan rule's `-(W|R)\s?...` was one Hyperscan scan of every command line (about 450
 * instructions an event); now it is two literals in the scan that runs anyway. */
static int prefilter_regexes(struct rf_detect *d, struct cls *c)
{
	unsigned i, j, k, s;

	for (i = 0; i < c->nfdbs;) {
		struct fdb *f = &c->fdbs[i];
		for (s = 0; s < c->tcat.nslots && c->tcat.slot_field[s] != f->field; s++)
			;
		for (j = 0; s < c->tcat.nslots && j < f->n;) {
			struct atom *a = &d->atoms[f->ids[j]];
			char lits[RF_RE_FACTORS_MAX][RF_RE_FACTOR_LEN];
			size_t lens[RF_RE_FACTORS_MAX];
			unsigned n;
			hs_compile_error_t *err = NULL;
			if (a->kind != A_RE || a->dead || !(n = rf_detect_re_factors_(a->re, lits, lens))) {
				j++;
				continue;
			}
			if (!a->lazy_db) {
				if (hs_compile(a->re, re_hsflags(a), HS_MODE_BLOCK, NULL, &a->lazy_db, &err) != HS_SUCCESS) {
					hs_free_compile_error(err); /* build_fdb reports it */
					j++;
					continue;
				}
				d->st.databases++;
				if (hs_alloc_scratch(a->lazy_db, &d->scratch) != HS_SUCCESS)
					return -ENOMEM;
			}
			for (k = 0; k < n; k++) {
				struct litinfo *li;
				if (c->tcat.n == c->tcat.cap) {
					unsigned nc = c->tcat.cap ? c->tcat.cap * 2 : 64;
					void *q = realloc(c->tcat.info, nc * sizeof(*c->tcat.info));
					if (!q)
						return -ENOMEM;
					c->tcat.info = q;
					c->tcat.cap = nc;
				}
				li = &c->tcat.info[c->tcat.n];
				memset(li, 0, sizeof(*li));
				if (!(li->plit = malloc(lens[k] + 1)))
					return -ENOMEM;
				memcpy(li->plit, lits[k], lens[k]);
				li->plit[lens[k]] = 0;
				li->atom = f->ids[j];
				li->slot = (uint16_t)s;
				li->pre = true;
				li->caseless = (a->reflags & REF_I) != 0;
				li->llen = (uint32_t)lens[k];
				c->tcat.n++;
			}
			a->prefiltered = true;
			f->ids[j] = f->ids[--f->n];
		}
		if (f->n) {
			i++;
			continue;
		}
		free(f->ids);
		c->fdbs[i] = c->fdbs[--c->nfdbs];
	}
	return 0;
}

/* Does a rule of class CID that compiled use atom A? */
static bool atom_in_class(const struct rf_detect *d, const struct atom *a, unsigned cid)
{
	unsigned j;

	for (j = 0; j < a->nrules; j++) {
		const struct rule *ru = &d->rules[a->rules[j]];
		if (ru->ok && (ru->classes >> cid & 1))
			return true;
	}
	return false;
}

static int build_class(struct rf_detect *d, unsigned cid, struct rf_detect_report *rep)
{
	struct cls *c = &d->cls[cid];
	const struct rf_class_desc *cd = rf_schema_class(cid);
	unsigned i, j, k;
	int r;
	uint8_t *seen;

	c->c = cd;
	seen = calloc(d->natoms ? d->natoms : 1, 1);
	if (!seen)
		return -ENOMEM;
	for (i = 0; i < RF_FIELDS_MAX; i++)
		c->lcat_of[i] = c->anch_of[i] = -1;
	for (i = 0; i < d->nrules; i++) {
		struct rule *ru = &d->rules[i];
		if (!ru->ok || ru->corr || !(ru->classes >> cid & 1))
			continue;
		if ((r = push_int(&c->rules, &c->nrules, (int)i)) < 0)
			goto out;
		if (ru->always && (r = push_int(&c->always, &c->nalways, (int)i)) < 0)
			goto out;
	}
	for (i = 0; i < d->natoms; i++) {
		struct atom *a = &d->atoms[i];
		if (!atom_in_class(d, a, cid) || seen[i])
			continue;
		seen[i] = 1;
		if (a->dead)
			continue;
		{
			uint8_t an;
			size_t from, len;
			a->lit = simple_literal(a, &an, &from, &len) && uses_hs(a);
			/* Anchored literals are walked, never scanned (anchor.c): the
			 * triggers here, the lazy ones below. */
			a->anchored = a->lit && an;
			if (a->anchored && a->lazy)
				continue;
			if (a->anchored) {
				if (a->kind == A_KEYWORD) {
					for (k = 0; k < cd->nfields; k++)
						if (is_keyword_field(&cd->fields[k]) &&
						    (r = anch_add(c, (int)k, (int)i, a, an, from, len, true)) < 0)
							goto out;
				} else if (a->fidx[cid] >= 0 &&
					   (r = anch_add(c, a->fidx[cid], (int)i, a, an, from, len, true)) < 0) {
					goto out;
				}
				continue;
			}
		}
		if (a->lit) {
			struct catdb *cat = &c->tcat;
			if (a->lazy) {
				void *q;
				uint8_t an;
				size_t from, len;
				if (a->fidx[cid] < 0)
					continue;
				if (simple_literal(a, &an, &from, &len) &&
				    (r = rf_detect_lit_prepare_(a, a->tok + from, len)) < 0)
					goto out;
				if (c->lcat_of[a->fidx[cid]] < 0) {
					q = realloc(c->lcats, (c->nlcats + 1) * sizeof(*c->lcats));
					if (!q) {
						r = -ENOMEM;
						goto out;
					}
					c->lcats = q;
					memset(&c->lcats[c->nlcats], 0, sizeof(c->lcats[0]));
					c->lcat_of[a->fidx[cid]] = (int16_t)c->nlcats++;
				}
				cat = &c->lcats[c->lcat_of[a->fidx[cid]]];
			}
			if (a->kind == A_KEYWORD) {
				for (k = 0; k < cd->nfields; k++)
					if (is_keyword_field(&cd->fields[k]) &&
					    (r = cat_add(cat, cd, (int)i, a, (int)k)) < 0)
						goto out;
			} else if (a->fidx[cid] >= 0 && (r = cat_add(cat, cd, (int)i, a, a->fidx[cid])) < 0) {
				goto out;
			}
			continue;
		}
		if (a->lazy) {
			struct fdb *f;
			if (a->fidx[cid] < 0 || a->kind == A_RE)
				continue;
			if (!(f = fdb_for(&c->lfdbs, &c->nlfdbs, a->fidx[cid])) ||
			    push_int(&f->ids, &f->n, (int)i) < 0) {
				r = -ENOMEM;
				goto out;
			}
			continue;
		}
		if (!uses_hs(a)) {
			if ((r = push_int(&c->eager, &c->neager, (int)i)) < 0)
				goto out;
			continue;
		}
		if (a->kind == A_KEYWORD) {
			for (k = 0; k < cd->nfields; k++) {
				struct fdb *f;
				if (!is_keyword_field(&cd->fields[k]))
					continue;
				if (!(f = fdb_for(&c->fdbs, &c->nfdbs, (int)k)) || push_int(&f->ids, &f->n, (int)i) < 0) {
					r = -ENOMEM;
					goto out;
				}
			}
		} else if (a->fidx[cid] >= 0) {
			struct fdb *f = fdb_for(&c->fdbs, &c->nfdbs, a->fidx[cid]);
			if (!f || push_int(&f->ids, &f->n, (int)i) < 0) {
				r = -ENOMEM;
				goto out;
			}
		}
	}
	/* A field with only a few plain wildcard patterns is cheaper to test directly
	 * than to scan: a Hyperscan scan has a fixed cost of the order of 50-100 ns. */
	for (i = 0; i < c->nfdbs;) {
		struct fdb *f = &c->fdbs[i];
		bool small = f->n <= DETECT_SMALL_FIELD;
		for (j = 0; j < f->n && small; j++)
			small = d->atoms[f->ids[j]].kind == A_GLOB;
		if (!small) {
			i++;
			continue;
		}
		for (j = 0; j < f->n; j++)
			if ((r = push_int(&c->eager, &c->neager, f->ids[j])) < 0)
				goto out;
		free(f->ids);
		c->fdbs[i] = c->fdbs[--c->nfdbs];
	}
	for (i = 0; i < c->nlfdbs;) {
		struct fdb *f = &c->lfdbs[i];
		bool small = f->n <= DETECT_SMALL_FIELD;
		for (j = 0; j < f->n && small; j++)
			small = d->atoms[f->ids[j]].kind == A_GLOB;
		if (!small) {
			i++;
			continue;
		}
		free(f->ids); /* matched directly by lazy_eval */
		c->lfdbs[i] = c->lfdbs[--c->nlfdbs];
	}
	for (i = 0; i < RF_FIELDS_MAX; i++)
		c->lfdb_of[i] = -1;
	for (i = 0; i < c->nlfdbs; i++)
		c->lfdb_of[c->lfdbs[i].field] = (int16_t)i;
	/* A field with few trigger literals costs more in the shared scan (every byte of
	 * its value is scanned) than testing those literals directly. */
	{
		unsigned per[RF_FIELDS_MAX] = {0}, o = 0, ns = 0, s;
		int16_t remap[RF_FIELDS_MAX];
		for (i = 0; i < c->tcat.n; i++)
			per[c->tcat.info[i].slot]++;
		for (s = 0; s < c->tcat.nslots; s++) {
			remap[s] = -1;
			if (per[s] > DETECT_SMALL_FIELD) {
				remap[s] = (int16_t)ns;
				c->tcat.slot_field[ns++] = c->tcat.slot_field[s];
			}
		}
		for (i = 0; i < c->tcat.n; i++) {
			struct litinfo li = c->tcat.info[i];
			if (remap[li.slot] < 0) {
				/* keywords may be here for several fields: once is enough */
				for (j = 0; j < c->neager && c->eager[j] != li.atom; j++)
					;
				if (j == c->neager && (r = push_int(&c->eager, &c->neager, li.atom)) < 0)
					goto out;
				continue;
			}
			li.slot = (uint16_t)remap[li.slot];
			c->tcat.info[o++] = li;
		}
		c->tcat.n = o;
		c->tcat.nslots = ns;
		c->tcat.bufsz = 0;
		for (s = 0; s < ns; s++) {
			const struct rf_field_desc *f = &cd->fields[c->tcat.slot_field[s]];
			c->tcat.bufsz += (f->source == RF_FS_DERIVED ? RF_ARGV_MAX + 64 : f->max ? f->max : 64) + 1;
		}
	}
	if ((r = prefilter_regexes(d, c)) < 0)
		goto out;
	for (i = 0; i < c->nfdbs; i++)
		if ((r = build_fdb(d, cd, &c->fdbs[i], rep)) < 0)
			goto out;
	for (i = 0; i < c->nlfdbs; i++)
		if ((r = build_fdb(d, cd, &c->lfdbs[i], rep)) < 0)
			goto out;
	/* A lazy anchored literal rides along where its field is walked anyway (a walk
	 * costs a few steps, whatever the literals); elsewhere lazy_eval tests it
	 * directly when a candidate asks. */
	for (i = 0; i < d->natoms; i++) {
		struct atom *a = &d->atoms[i];
		uint8_t an;
		size_t from, len;
		if (!seen[i] || a->dead || !a->anchored || !a->lazy || a->fidx[cid] < 0 ||
		    !simple_literal(a, &an, &from, &len))
			continue;
		if ((r = anch_add(c, a->fidx[cid], (int)i, a, an, from, len, false)) < 0)
			goto out;
	}
	for (i = 0; i < c->nanch; i++)
		if ((r = rf_detect_trie_finish_(&c->anch[i].fwd)) < 0 ||
		    (r = rf_detect_trie_finish_(&c->anch[i].rev)) < 0)
			goto out;
	if ((r = build_cat(d, cd, &c->tcat, rep)) < 0)
		goto out;
	for (i = 0; i < c->nlcats; i++)
		if ((r = build_cat(d, cd, &c->lcats[i], rep)) < 0)
			goto out;
	r = 0;
out:
	free(seen);
	return r;
}

/* Entries of the flattened tree (identifiers expanded); -E2BIG past the limit. */
static int flat_size(const struct node *x, unsigned depth, unsigned *n)
{
	unsigned i;

	if (depth > RF_RULE_DEPTH_MAX + 8 || ++*n > RF_RULE_NODES_MAX)
		return -E2BIG;
	for (i = 0; i < x->n; i++)
		if (flat_size(x->kids[i], depth + 1, n) < 0)
			return -E2BIG;
	return 0;
}

/* An atom whose value is its bit: tested, not evaluated on demand. */
static bool plain_atom(const struct rf_detect *d, const struct node *x)
{
	return x->kind == N_ATOM && (unsigned)x->atom < d->natoms &&
	       (!d->atoms[x->atom].lazy || d->atoms[x->atom].walked);
}

/* The bit groups of X's plain atom kids, one mask per word, appended to R's masks. */
static int add_masks(const struct rf_detect *d, struct rule *r, const struct node *x, uint32_t *first,
		     uint16_t *npairs)
{
	unsigned i, p;

	*first = r->nmasks;
	for (i = 0; i < x->n; i++) {
		uint32_t w;
		if (!plain_atom(d, x->kids[i]))
			continue;
		w = (uint32_t)x->kids[i]->atom >> 6;
		for (p = *first; p < r->nmasks && r->masks[p].word != w; p++)
			;
		if (p == r->nmasks) {
			void *q = realloc(r->masks, (r->nmasks + 1) * sizeof(*r->masks));
			if (!q)
				return -ENOMEM;
			r->masks = q;
			r->masks[r->nmasks++] = (struct wmask){.word = w};
		}
		r->masks[p].mask |= 1ull << ((unsigned)x->kids[i]->atom & 63);
	}
	*npairs = (uint16_t)(r->nmasks - *first);
	return 0;
}

/* Flatten X into CODE at *N (preorder). The plain atoms among the kids of an and or an
 * or (and of `1 of`, `all of`) become one bit-group test, evaluated first: a word and a
 * mask test instead of one test per atom (the six `Image|endswith` values of a
 * selection are one test). The result is the same; only which lazy atoms get asked
 * changes. Never more entries than flat_size counted. */
static int flatten(const struct rf_detect *d, struct rule *r, const struct node *x, struct cnode *code,
		   unsigned *n)
{
	unsigned me = (*n)++, i, plain = 0;
	int kind = x->kind, ret;

	if (kind == N_ATLEAST && x->k == 1)
		kind = N_OR;
	else if (kind == N_ATLEAST && x->n && (unsigned)x->k == x->n)
		kind = N_AND;
	for (i = 0; (kind == N_AND || kind == N_OR) && i < x->n; i++)
		plain += plain_atom(d, x->kids[i]);
	if (plain >= 2) {
		uint32_t first;
		uint16_t np;
		unsigned b = me;
		if ((ret = add_masks(d, r, x, &first, &np)) < 0)
			return ret;
		if (plain < x->n) {
			code[me].kind = (uint8_t)kind;
			code[me].n = (uint16_t)(1 + x->n - plain);
			code[me].k = 0;
			b = (*n)++;
		}
		code[b].kind = kind == N_OR ? N_ANYBITS : N_ALLBITS;
		code[b].n = np;
		code[b].k = first;
		code[b].v = 1;
		if (b == me)
			return 0;
		for (i = 0; i < x->n; i++)
			if (!plain_atom(d, x->kids[i]) && (ret = flatten(d, r, x->kids[i], code, n)) < 0)
				return ret;
		code[me].v = *n - me;
		return 0;
	}
	code[me].kind = (uint8_t)x->kind;
	code[me].n = (uint16_t)x->n;
	code[me].k = (uint32_t)x->k;
	for (i = 0; i < x->n; i++)
		if ((ret = flatten(d, r, x->kids[i], code, n)) < 0)
			return ret;
	code[me].v = x->kind == N_ATOM ? (uint32_t)x->atom : *n - me;
	return 0;
}

int rf_detect_compile(struct rf_detect *d, int mode, struct rf_detect_report *rep)
{
	unsigned i, cid;
	int r;

	if (d->mode)
		return -EALREADY;
	if (mode != RF_DETECT_HYPERSCAN && mode != RF_DETECT_NAIVE)
		return -EINVAL;
	if ((r = resolve_correlations(d, rep)) < 0)
		return r;
	for (i = 0; i < d->nrules; i++) {
		struct rule *ru = &d->rules[i];
		if (!ru->ok || ru->corr)
			continue;
		if ((r = collect_atoms(d, (int)i, ru->cond, 0)) < 0)
			return r;
		ru->always = eval_allfalse(ru->cond, 0);
	}
	/* regex.h for the naive evaluator (and as the check that a regex is sane) */
	for (i = 0; i < d->natoms; i++) {
		struct atom *a = &d->atoms[i];
		char *px = NULL;
		int fl = REG_EXTENDED | REG_NOSUB;
		if (a->kind != A_RE || !a->nrules || mode != RF_DETECT_NAIVE)
			continue;
		if (a->reflags & REF_I)
			fl |= REG_ICASE;
		if (a->reflags & REF_M)
			fl |= REG_NEWLINE;
		if (rf_detect_re_to_posix_(a->re, &px) == 0 && regcomp(&a->posix, px, fl) == 0) {
			a->posix_ok = true;
		} else {
			unsigned k;
			char why[300];
			snprintf(why, sizeof(why), "regular expression '%.200s' has no POSIX equivalent (naive evaluator)", a->re);
			for (k = 0; k < a->nrules; k++)
				invalidate(d, &d->rules[a->rules[k]], RF_RULE_UNSUPPORTED, why, rep);
		}
		free(px);
	}
	if (mode == RF_DETECT_HYPERSCAN) {
		if ((r = choose_triggers(d)) < 0)
			return r;
		for (i = 0; i < d->natoms; i++) {
			struct atom *a = &d->atoms[i];
			hs_compile_error_t *err = NULL;
			if (!a->lazy || a->kind != A_RE)
				continue;
			if (hs_compile(a->re, re_hsflags(a), HS_MODE_BLOCK, NULL, &a->lazy_db, &err) != HS_SUCCESS) {
				char why[600];
				unsigned k;
				snprintf(why, sizeof(why), "regular expression '%.200s' refused by Hyperscan: %s",
					 a->re, err ? err->message : "?");
				hs_free_compile_error(err);
				a->dead = true;
				a->lazy = false;
				for (k = 0; k < a->nrules; k++)
					invalidate(d, &d->rules[a->rules[k]], RF_RULE_INVALID, why, rep);
				continue;
			}
			d->st.databases++;
			if (hs_alloc_scratch(a->lazy_db, &d->scratch) != HS_SUCCESS)
				return -ENOMEM;
		}
		for (cid = 1; cid < rf_schema_class_count() && cid < RF_CLASSES_MAX; cid++)
			if (rf_schema_class(cid) && (r = build_class(d, cid, rep)) < 0)
				return r;
		/* A lazy anchored literal on a field that is walked on every event has its
		 * bit set by the walk (lazy_eval would only read it): read the bit directly
		 * and let it join bit groups. In a class without the field it stays false,
		 * as lazy_eval answers there. */
		for (i = 0; i < d->natoms; i++) {
			struct atom *a = &d->atoms[i];
			bool walked = a->lazy && a->anchored && a->kind != A_KEYWORD && !a->dead, any = false;
			for (cid = 1; walked && cid < RF_CLASSES_MAX; cid++) {
				const struct cls *c = &d->cls[cid];
				if (!c->c || !atom_in_class(d, a, cid))
					continue;
				any = true;
				if (a->fidx[cid] >= 0 && c->anch_of[a->fidx[cid]] < 0)
					walked = false;
			}
			a->walked = walked && any;
		}
		/* rules refused by Hyperscan are gone: rebuild the class lists without them */
		for (cid = 1; cid < RF_CLASSES_MAX; cid++) {
			struct cls *c = &d->cls[cid];
			unsigned o = 0;
			for (i = 0; i < c->nrules; i++)
				if (d->rules[c->rules[i]].ok)
					c->rules[o++] = c->rules[i];
			c->nrules = o;
			o = 0;
			for (i = 0; i < c->nalways; i++)
				if (d->rules[c->always[i]].ok)
					c->always[o++] = c->always[i];
			c->nalways = o;
			for (i = 0; i < c->nfdbs; i++) {
				d->st.databases++;
				if (c->fdbs[i].db && hs_alloc_scratch(c->fdbs[i].db, &d->scratch) != HS_SUCCESS)
					return -ENOMEM;
			}
			if (c->tcat.db) {
				d->st.databases++;
				if (hs_alloc_scratch(c->tcat.db, &d->scratch) != HS_SUCCESS)
					return -ENOMEM;
			}
			for (i = 0; i < c->nlcats; i++) {
				if (!c->lcats[i].db)
					continue;
				d->st.databases++;
				if (hs_alloc_scratch(c->lcats[i].db, &d->scratch) != HS_SUCCESS)
					return -ENOMEM;
			}
			for (i = 0; i < c->nlfdbs; i++) {
				d->st.databases++;
				if (c->lfdbs[i].db && hs_alloc_scratch(c->lfdbs[i].db, &d->scratch) != HS_SUCCESS)
					return -ENOMEM;
			}
		}
	} else {
		for (cid = 1; cid < rf_schema_class_count() && cid < RF_CLASSES_MAX; cid++) {
			struct cls *c = &d->cls[cid];
			c->c = rf_schema_class(cid);
			if (!c->c)
				continue;
			for (i = 0; i < d->nrules; i++) {
				struct rule *ru = &d->rules[i];
				if (ru->ok && !ru->corr && (ru->classes >> cid & 1) &&
				    push_int(&c->rules, &c->nrules, (int)i) < 0)
					return -ENOMEM;
			}
		}
	}
	/* stored strings are read straight from the event (rf_detect_field_) */
	for (cid = 1; cid < RF_CLASSES_MAX; cid++) {
		struct cls *c = &d->cls[cid];
		for (i = 0; c->c && i < c->c->nfields && i < RF_FIELDS_MAX; i++) {
			const struct rf_field_desc *f = &c->c->fields[i];
			if ((f->type == RF_FT_STR || f->type == RF_FT_PATH || f->type == RF_FT_ARGV) &&
			    f->source != RF_FS_DERIVED)
				c->soff[i] = f->offset;
		}
	}
	/* correlations whose rules lost their place are not run */
	for (i = 0; i < d->nrules; i++) {
		struct rule *ru = &d->rules[i];
		unsigned j;
		if (!ru->corr || !ru->ok)
			continue;
		for (j = 0; j < ru->corr->nrefs; j++)
			if (!d->rules[ru->corr->ref_rule[j]].ok)
				invalidate(d, ru, RF_RULE_UNSUPPORTED, "a rule it correlates did not compile", rep);
		if (ru->ok && rf_corr_init_(ru->corr) < 0)
			return -ENOMEM;
	}
	for (i = 0; mode == RF_DETECT_HYPERSCAN && i < d->nrules; i++) {
		struct rule *ru = &d->rules[i];
		unsigned n = 0;
		if (!ru->ok || ru->corr)
			continue;
		if (flat_size(ru->cond, 0, &n) < 0) {
			invalidate(d, ru, RF_RULE_INVALID,
				   "condition too large once its search identifiers are expanded (RF_RULE_NODES_MAX)", rep);
			continue;
		}
		ru->code = calloc(n, sizeof(*ru->code));
		if (!ru->code)
			return -ENOMEM;
		n = 0;
		if ((r = flatten(d, ru, ru->cond, ru->code, &n)) < 0)
			return r;
		ru->ncode = n; /* bit groups: fewer than counted */
	}
	d->alazy = calloc(d->natoms + 1, 1);
	if (!d->alazy)
		return -ENOMEM;
	for (i = 0; i < d->natoms; i++)
		d->alazy[i] = d->atoms[i].lazy && !d->atoms[i].walked;
	d->bits = calloc((d->natoms + 64) / 64, sizeof(uint64_t));
	d->setlist = calloc(d->natoms + 1, sizeof(int));
	d->cand = calloc(d->nrules + 1, sizeof(int));
	d->pending = calloc(d->natoms + 1, sizeof(int));
	if (!d->bits || !d->setlist || !d->cand || !d->pending)
		return -ENOMEM;
	for (i = 0; i < d->nrules; i++) {
		if (d->rules[i].ok && !d->rules[i].corr)
			d->st.rules++;
		if (d->rules[i].ok && d->rules[i].corr)
			d->st.correlations++;
	}
	d->st.atoms = d->natoms;
	d->mode = mode;
	return 0;
}

struct rf_detect *rf_detect_open(const char *const *dirs, int ndirs, int mode,
				 struct rf_detect_report *rep)
{
	struct rf_detect *d = rf_detect_new();
	int i;

	if (!d)
		return NULL;
	for (i = 0; i < ndirs; i++)
		if (rf_detect_load_dir(d, dirs[i], rep) == -ENOMEM)
			goto fail;
	if (rf_detect_compile(d, mode, rep) < 0)
		goto fail;
	return d;
fail:
	rf_detect_free(d);
	return NULL;
}

int rf_detect_compile_dir(const char *dir, struct rf_detect_report *rep)
{
	struct rf_detect *d = rf_detect_new();
	int r;

	if (!d)
		return -ENOMEM;
	r = rf_detect_load_dir(d, dir, rep);
	if (r == 0)
		r = rf_detect_compile(d, RF_DETECT_HYPERSCAN, rep);
	rf_detect_free(d);
	if (r < 0)
		return r;
	return rep->invalid ? 2 : rep->unsupported ? 1 : 0;
}

/* See detect.h. Invalid rules refuse the directory, naming the first one;
 * unsupported rules (valid Sigma for log sources the sensor does not feed) are
 * accepted and never run. */
int rf_detect_validate_dir(const char *payload_dir, char *err, size_t errlen)
{
	struct rf_detect_report rep = {0};
	size_t i;
	int r = rf_detect_compile_dir(payload_dir, &rep);

	if (r == 2 || r < 0) {
		for (i = 0; i < rep.n; i++)
			if (rep.v[i].status == RF_RULE_INVALID)
				break;
		if (i < rep.n)
			snprintf(err, errlen, "%s:%u:%u: rule %s: %s (%u invalid of %zu)", rep.v[i].file,
				 rep.v[i].line, rep.v[i].col, rep.v[i].id ? rep.v[i].id : "(no id)",
				 rep.v[i].reason ? rep.v[i].reason : "invalid", rep.invalid, rep.n);
		else
			snprintf(err, errlen, "cannot compile the rules: %s", strerror(r < 0 ? -r : EINVAL));
		r = r < 0 ? r : -EINVAL;
	} else if (rep.compiled == 0) {
		snprintf(err, errlen, "sigma payload holds no rule that compiles (%u unsupported)", rep.unsupported);
		r = -ENOENT;
	} else {
		r = 0;
	}
	rf_detect_report_free(&rep);
	return r;
}

uint64_t rf_detect_classes(const struct rf_detect *d)
{
	uint64_t m = 0;
	unsigned c;

	for (c = 1; d->mode && c < RF_CLASSES_MAX; c++)
		if (d->cls[c].nrules)
			m |= 1ull << c;
	return m;
}

void rf_detect_stats(const struct rf_detect *d, struct rf_detect_stats *st)
{
	*st = d->st;
}

/* ---- evaluation ------------------------------------------------------------------ */

static bool lazy_eval(struct rf_detect *d, struct atom *a);
static void scan_fdb(struct rf_detect *d, const struct fdb *f);
static void scan_cat(struct rf_detect *d, struct catdb *cat);
static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to,
		       unsigned flags, void *ctx);


/* Inlined into eval_code: most atoms are a bit of the bitset, a call each would cost
 * as much as the test (callgrind). */
__attribute__((always_inline)) static inline bool atom_value(struct rf_detect *d, int a)
{
	if ((unsigned)a >= d->natoms)
		return false;
	if (d->alazy[a])
		return lazy_eval(d, &d->atoms[a]);
	return rf_detect_bit_(d, a);
}

/* A bit-group test (N_ANYBITS, N_ALLBITS) of rule R; masks and words checked. */
__attribute__((always_inline)) static inline bool bits_value(const struct rf_detect *d, const struct rule *r,
							     const struct cnode *c)
{
	unsigned p, end = c->k + c->n, nwords = (d->natoms + 64) / 64;

	if (end > r->nmasks || end < c->k)
		return false;
	if (c->kind == N_ANYBITS) {
		for (p = c->k; p < end; p++)
			if (r->masks[p].word < nwords && (d->bits[r->masks[p].word] & r->masks[p].mask))
				return true;
		return false;
	}
	for (p = c->k; p < end; p++)
		if (r->masks[p].word >= nwords ||
		    (d->bits[r->masks[p].word] & r->masks[p].mask) != r->masks[p].mask)
			return false;
	return true;
}

/* Evaluate the flattened condition of rule R at entry I: short-circuit, every index
 * checked against the arrays (the code is ours, checked anyway). */
static bool eval_code(struct rf_detect *d, const struct rule *r, unsigned i, unsigned depth)
{
	const struct cnode *c, *code = r->code;
	unsigned j, k, hits = 0, ncode = r->ncode;

	if (i >= ncode || depth > RF_RULE_DEPTH_MAX + 8)
		return false;
	c = &code[i];
	switch (c->kind) {
	case N_ATOM:
		return atom_value(d, (int)c->v);
	case N_CONST:
		return c->k != 0;
	case N_ANYBITS:
	case N_ALLBITS:
		return bits_value(d, r, c);
	case N_NOT:
		return !eval_code(d, r, i + 1, depth + 1);
	case N_AND:
	case N_OR:
		for (j = i + 1, k = 0; k < c->n && j < ncode; k++) {
			bool v = code[j].kind == N_ATOM ? atom_value(d, (int)code[j].v)
				 : code[j].kind >= N_ANYBITS ? bits_value(d, r, &code[j])
							      : eval_code(d, r, j, depth + 1);
			if (c->kind == N_AND ? !v : v)
				return v;
			j += code[j].kind == N_ATOM ? 1 : code[j].v;
		}
		return c->kind == N_AND;
	case N_ATLEAST:
		for (j = i + 1, k = 0; k < c->n && j < ncode && hits < c->k; k++) {
			hits += code[j].kind == N_ATOM ? atom_value(d, (int)code[j].v)
							: eval_code(d, r, j, depth + 1);
			j += code[j].kind == N_ATOM ? 1 : code[j].v;
		}
		return hits >= c->k;
	}
	return false;
}

bool rf_detect_eval_naive_(struct rf_detect *d, const struct node *n, unsigned depth)
{
	unsigned i, c = 0;

	if (depth > RF_RULE_DEPTH_MAX + 8)
		return false;
	switch (n->kind) {
	case N_ATOM:
		return (unsigned)n->atom < d->natoms && rf_detect_atom_eval_(d, &d->atoms[n->atom]);
	case N_CONST:
		return n->k;
	case N_NOT:
		return !rf_detect_eval_naive_(d, n->kids[0], depth + 1);
	case N_AND:
		for (i = 0; i < n->n; i++)
			if (!rf_detect_eval_naive_(d, n->kids[i], depth + 1))
				return false;
		return true;
	case N_OR:
		for (i = 0; i < n->n; i++)
			if (rf_detect_eval_naive_(d, n->kids[i], depth + 1))
				return true;
		return false;
	case N_ATLEAST:
		for (i = 0; i < n->n && c < (unsigned)n->k; i++)
			c += rf_detect_eval_naive_(d, n->kids[i], depth + 1);
		return c >= (unsigned)n->k;
	}
	return false;
}

static int on_lazy_match(unsigned id, unsigned long long from, unsigned long long to,
			 unsigned flags, void *ctx)
{
	(void)id; (void)from; (void)to; (void)flags;
	*(bool *)ctx = true;
	return 1; /* one match is enough: stop scanning */
}

/* A pattern no rule needs to become a candidate: evaluated only when a candidate's
 * condition asks. A lazy literal is searched for directly (rf_detect_find_lit_) until
 * candidates have asked about DETECT_LAZY_DIRECT of its field's in this event; then
 * the field's lazy literal database is scanned once. The first request for a lazy
 * wildcard pattern scans the field's lazy database once (all its lazy wildcard
 * patterns); a field with few lazy patterns is matched directly, and a lazy regular
 * expression has a database of its own (regular expressions make a shared scan about
 * twice as slow); each at most once per event. */
__attribute__((noinline)) static bool lazy_eval(struct rf_detect *d, struct atom *a)
{
	unsigned cid = d->ev->class_id;
	struct cls *c = &d->cls[cid];
	int fidx = a->fidx[cid], li;
	struct fval *v;

	if (fidx < 0 && a->kind != A_KEYWORD)
		return false;
	if (a->anchored && fidx >= 0 && c->anch_of[fidx] >= 0)
		return rf_detect_bit_(d, (int)(a - d->atoms)); /* walked with the triggers */
	if (a->lit && !a->anchored) {
		struct catdb *cat;
		if (fidx < 0 || c->lcat_of[fidx] < 0)
			return false;
		cat = &c->lcats[c->lcat_of[fidx]];
		if (cat->stamp == d->stamp)
			return rf_detect_bit_(d, (int)(a - d->atoms));
		/* The first few literals asked about in an event are searched for directly;
		 * when candidates ask about more, one scan answers all of the field's. */
		if (cat->ask_stamp != d->stamp) {
			cat->ask_stamp = d->stamp;
			cat->asks = 0;
		}
		if (a->lit_s && cat->asks < DETECT_LAZY_DIRECT) {
			int k;
			if (a->lazy_stamp == d->stamp)
				return a->lazy_val;
			cat->asks++;
			if ((k = rf_detect_find_lit_(d, a, fidx)) >= 0) {
				a->lazy_stamp = d->stamp;
				a->lazy_val = k;
				return k;
			}
		}
		cat->stamp = d->stamp;
		scan_cat(d, cat);
		return rf_detect_bit_(d, (int)(a - d->atoms));
	}
	if (fidx < 0)
		return false;
	li = a->kind == A_RE || a->anchored ? -1 : c->lfdb_of[fidx];
	if (li >= 0) {
		struct fdb *f = &c->lfdbs[li];
		if (f->stamp != d->stamp) {
			f->stamp = d->stamp;
			scan_fdb(d, f);
		}
		return rf_detect_bit_(d, (int)(a - d->atoms));
	}
	if (a->lazy_stamp != d->stamp) {
		a->lazy_stamp = d->stamp;
		a->lazy_val = false;
		if (a->kind != A_RE)
			a->lazy_val = rf_detect_atom_eval_(d, a);
		else if (a->lazy_db && rf_detect_field_(d, fidx, &v) == 0)
			hs_scan(a->lazy_db, v->len ? v->s : "", (unsigned)v->len, 0, d->scratch,
				on_lazy_match, &a->lazy_val);
	}
	return a->lazy_val;
}

struct scanctx {
	struct rf_detect *d;
	const struct fdb *f;
	unsigned long long len;
};

static int on_hs_match(unsigned id, unsigned long long from, unsigned long long to,
		       unsigned flags, void *ctx)
{
	struct scanctx *s = ctx;

	(void)from; (void)to; (void)flags;
	if (id < s->f->n)
		rf_detect_setbit_(s->d, s->f->ids[id]);
	return 0;
}

struct catctx {
	struct rf_detect *d;
	const struct catdb *cat;
};

static int on_cat_match(unsigned id, unsigned long long from, unsigned long long to,
			unsigned flags, void *ctx)
{
	struct catctx *s = ctx;
	const struct litinfo *li;
	unsigned long long st, en;

	(void)from; (void)flags;
	if (id >= s->cat->n)
		return 0;
	li = &s->cat->info[id];
	st = s->cat->seg_start[li->slot];
	en = s->cat->seg_end[li->slot];
	if (to > en || to < st + li->llen)
		return 0; /* in another field's segment */
	if ((li->anch & 1) && to - li->llen != st)
		return 0;
	if ((li->anch & 2) && to != en)
		return 0;
	if (li->pre) {
		/* a required literal of a regular expression: scan it after this scan */
		struct atom *a = &s->d->atoms[li->atom];
		if (a->lazy_stamp != s->d->stamp) {
			a->lazy_stamp = s->d->stamp;
			s->d->pending[s->d->npending++] = li->atom;
		}
		return 0;
	}
	rf_detect_setbit_(s->d, s->cat->info[id].atom);
	return 0;
}

/* Lay the fields of CAT out in its buffer and scan them once. */
static void scan_cat(struct rf_detect *d, struct catdb *cat)
{
	struct catctx sc = {.d = d, .cat = cat};
	size_t o = 0;
	unsigned s;

	if (!cat->db)
		return;
	for (s = 0; s < cat->nslots; s++) {
		struct fval *v;
		size_t len = 0;
		cat->seg_start[s] = (uint32_t)o;
		if (rf_detect_field_(d, cat->slot_field[s], &v) == 0) {
			len = v->len;
			if (len > cat->bufsz - o - 1)
				len = cat->bufsz - o - 1; /* cannot happen: sized from the schema */
			memcpy(cat->buf + o, v->s, len);
		}
		o += len;
		cat->seg_end[s] = (uint32_t)o;
		cat->buf[o++] = 0;
	}
	hs_scan(cat->db, cat->buf, (unsigned)o, 0, d->scratch, on_cat_match, &sc);
}

/* Scan the value of field F->field through F's database. */
static void scan_fdb(struct rf_detect *d, const struct fdb *f)
{
	struct scanctx sc = {.d = d, .f = f};
	struct fval *v;

	if (rf_detect_field_(d, f->field, &v) < 0)
		return;
	sc.len = v->len;
	if (f->db && (v->len || f->empty_matches))
		hs_scan(f->db, v->len ? v->s : "", (unsigned)v->len, 0, d->scratch, on_hs_match, &sc);
}

/* The event stamp wrapped around: forget every stamp, so that none left over from
 * 2^32 events ago passes for the current event's. */
static void restamp(struct rf_detect *d)
{
	unsigned i, j;

	memset(d->fv, 0, sizeof(d->fv));
	memset(d->lcstamp, 0, sizeof(d->lcstamp));
	for (i = 0; i < d->nrules; i++)
		d->rules[i].stamp = 0;
	for (i = 0; i < d->natoms; i++)
		d->atoms[i].lazy_stamp = 0;
	for (i = 0; i < RF_CLASSES_MAX; i++) {
		struct cls *c = &d->cls[i];
		c->tcat.stamp = c->tcat.ask_stamp = 0;
		for (j = 0; j < c->nlcats; j++)
			c->lcats[j].stamp = c->lcats[j].ask_stamp = 0;
		for (j = 0; j < c->nlfdbs; j++)
			c->lfdbs[j].stamp = 0;
	}
	d->stamp = 1;
}

static int hit(struct rf_detect *d, int ri, rf_detect_hit_cb cb, void *ctx)
{
	struct rule *r = &d->rules[ri];
	int n = 0;
	unsigned j;

	if (r->emit) {
		struct rf_detect_hit h = {
			.rule_id = r->id ? r->id : "",
			.rule_title = r->title,
			.level = r->level ? r->level : "",
			.tags = (const char *const *)r->tags,
			.ntags = r->ntags,
			.file = r->file,
		};
		if (cb)
			cb(&h, d->ev, ctx);
		d->st.hits++;
		n++;
	}
	for (j = 0; j < r->ncorrs; j++) {
		int k = rf_corr_feed_(d, r->corrs[j], ri, cb, ctx);
		if (k > 0)
			n += k;
	}
	return n;
}

int rf_detect_event(struct rf_detect *d, const struct rf_event_hdr *ev, size_t len,
		    rf_detect_hit_cb cb, void *ctx)
{
	const char *why;
	struct cls *c;
	unsigned i, j, ncand = 0;
	int nhits = 0;

	if (!d->mode)
		return -EALREADY;
	if (rf_event_validate(ev, len, &why) < 0)
		return -EINVAL;
	if (ev->class_id >= RF_CLASSES_MAX)
		return -EINVAL;
	c = &d->cls[ev->class_id];
	d->st.events++;
	if (!c->nrules)
		return 0;
	d->ev = ev;
	d->evc = c->c;
	d->soff = c->soff;
	if (++d->stamp == 0)
		restamp(d);
	if (d->mode == RF_DETECT_NAIVE) {
		for (i = 0; i < c->nrules; i++) {
			struct rule *r = &d->rules[c->rules[i]];
			if (rf_detect_eval_naive_(d, r->cond, 0))
				nhits += hit(d, c->rules[i], cb, ctx);
		}
		return nhits;
	}
	/* matcher: scan each field once */
	scan_cat(d, &c->tcat);
	for (i = 0; i < d->npending; i++) {
		struct atom *a = &d->atoms[d->pending[i]];
		struct fval *v;
		bool m = false;
		if (a->fidx[ev->class_id] >= 0 && rf_detect_field_(d, a->fidx[ev->class_id], &v) == 0)
			hs_scan(a->lazy_db, v->len ? v->s : "", (unsigned)v->len, 0, d->scratch, on_lazy_match, &m);
		if (m)
			rf_detect_setbit_(d, d->pending[i]);
	}
	d->npending = 0;
	rf_detect_anch_walk_all_(d, c);
	for (i = 0; i < c->nfdbs; i++)
		scan_fdb(d, &c->fdbs[i]);
	for (i = 0; i < c->neager; i++)
		if (rf_detect_atom_eval_(d, &d->atoms[c->eager[i]]))
			rf_detect_setbit_(d, c->eager[i]);
	/* candidate rules: those with an atom set, and those true with none */
	for (i = 0; i < d->nset; i++) {
		struct atom *a = &d->atoms[d->setlist[i]];
		for (j = 0; j < a->ntrules; j++) {
			struct rule *r = &d->rules[a->trules[j]];
			if (r->stamp != d->stamp && r->ok && (r->classes >> ev->class_id & 1)) {
				r->stamp = d->stamp;
				d->cand[ncand++] = a->trules[j];
			}
		}
	}
	for (i = 0; i < c->nalways; i++) {
		struct rule *r = &d->rules[c->always[i]];
		if (r->stamp != d->stamp) {
			r->stamp = d->stamp;
			d->cand[ncand++] = c->always[i];
		}
	}
	/* rule order, as the naive evaluator (hits and correlation updates in file order) */
	for (i = 1; i < ncand; i++) {
		int x = d->cand[i];
		for (j = i; j > 0 && d->cand[j - 1] > x; j--)
			d->cand[j] = d->cand[j - 1];
		d->cand[j] = x;
	}
	for (i = 0; i < ncand; i++)
		if (eval_code(d, &d->rules[d->cand[i]], 0, 0))
			nhits += hit(d, d->cand[i], cb, ctx);
	for (i = 0; i < d->nset; i++) {
		unsigned a = (unsigned)d->setlist[i];
		d->bits[a >> 6] &= ~(1ull << (a & 63));
	}
	d->nset = 0;
	return nhits;
}
