/* SPDX-License-Identifier: MIT */
/* detect_int.h: internals shared by the files of src/detect/. */
#ifndef RF_DETECT_INT_H
#define RF_DETECT_INT_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <hs/hs.h>

#include "detect/detect.h"
#include "ringfence/limits.h"
#include "ringfence/schema.h"

/* Glob tokens: 0..255 a literal byte, then these. */
enum { TOK_STAR = 256, TOK_ONE, TOK_DASH };

enum atom_kind {
	A_GLOB = 1, /* wildcard pattern on one field (also plain equality) */
	A_KEYWORD,  /* wildcard pattern on any string field of the event */
	A_RE,       /* regular expression on one field */
	A_NUMCMP,   /* lt / lte / gt / gte */
	A_CIDR,     /* IP field inside a network */
	A_EXISTS,   /* the field exists in the event */
	A_NULL,     /* the field is absent or empty */
	A_FIELDREF, /* the field's value compared with another field's */
};

enum { CMP_LT = 1, CMP_LTE, CMP_GT, CMP_GTE };
enum { REF_EQ = 1, REF_CONTAINS, REF_STARTS, REF_ENDS };
enum { REF_I = 1, REF_M = 2, REF_S = 4 }; /* re flags */

/* One primitive test. Atoms are shared between rules (deduplicated by key). */
struct atom {
	int kind;
	char *field;   /* Sigma field name (NULL for keywords) */
	char *key;     /* canonical description, for deduplication and messages */
	bool cased;
	bool can_empty; /* may match the empty value (glob all stars; re that HS says can) */
	uint16_t *tok; /* A_GLOB, A_KEYWORD */
	size_t ntok;
	char *re;      /* A_RE */
	unsigned reflags;
	regex_t posix; /* naive evaluator's compiled A_RE */
	bool posix_ok;
	int cmp;       /* A_NUMCMP */
	int64_t num;
	uint8_t net[16]; /* A_CIDR: v4 as v4-mapped v6 */
	unsigned prefix;
	bool exists;   /* unused: A_EXISTS is positive; exists:false is NOT(atom) */
	char *ref;     /* A_FIELDREF other field */
	int refmode;
	int16_t fidx[RF_CLASSES_MAX]; /* per class: field index, -1 when the class lacks it */
	int16_t ridx[RF_CLASSES_MAX]; /* A_FIELDREF: the other field's index */
	int *rules;    /* rules that use the atom */
	unsigned nrules, caprules;
	int *trules;   /* matcher: rules that need the atom to become a candidate */
	unsigned ntrules;
	bool dead;     /* refused by Hyperscan: its rules are invalid */
	bool trigger;  /* matcher: scanned, because some rule needs it to become a candidate */
	bool lazy;     /* matcher: a pattern that is not scanned but evaluated on demand */
	bool lit;      /* matcher: one plain literal (in the class's literal databases) */
	bool anchored; /* matcher: a literal anchored at one end (in the tries of anchor.c) */
	bool walked;   /* matcher: lazy, but in the tries of a field walked on every event of
			* each class that uses it: its bit is its value, as for a trigger */
	char *lit_s;    /* lazy unanchored literal: its bytes (lowercase unless cased), for
			 * the direct search of rf_detect_find_lit_ */
	uint32_t lit_len;
	uint32_t lit_key; /* index of its least common byte: the one searched for first */
	hs_database_t *lazy_db; /* A_RE that is lazy or has a prefilter: its own database,
				 * scanned when asked or when the prefilter hits */
	bool prefiltered;       /* matcher: A_RE scanned only when one of its required
				 * literals (in the class's trigger literals) occurs */
	uint32_t lazy_stamp;    /* event stamp of lazy_val (lazy atoms matched directly) */
	bool lazy_val;
};

enum node_kind {
	N_ATOM = 1, N_AND, N_OR, N_NOT, N_ATLEAST, N_CONST,
	N_ANYBITS, N_ALLBITS, /* flattened conditions only: some / all of the atoms whose bits
			       * are in the rule's masks k .. k + n - 1 */
};

/* Bits of one word of the per-event bitset (atoms whose tests held). */
struct wmask {
	uint32_t word;
	uint64_t mask;
};

struct node {
	int kind;
	int atom;      /* N_ATOM */
	int k;         /* N_ATLEAST: how many; N_CONST: value */
	unsigned n;
	struct node **kids;
};

/* A condition compiled for the matcher: the rule's tree (identifiers expanded) in
 * preorder, in one array, so that evaluating it touches a few cache lines instead of
 * scattered nodes. */
struct cnode {
	uint8_t kind;  /* enum node_kind */
	uint8_t pad;
	uint16_t n;    /* kids (they follow, each subtree `size` entries long) */
	uint32_t v;    /* N_ATOM: atom; else the subtree's size in entries, itself included */
	uint32_t k;    /* N_ATLEAST: how many; N_CONST: value; N_ANYBITS, N_ALLBITS: first mask */
};

enum corr_type { C_EVENT_COUNT = 1, C_VALUE_COUNT, C_TEMPORAL, C_TEMPORAL_ORDERED };

struct corr_group;

struct corr {
	int type;
	char **refs;       /* as written: ids or names */
	unsigned nrefs;
	int *ref_rule;     /* resolved rule indexes */
	char *groupby[RF_CORR_GROUPBY_MAX];
	unsigned ngroupby;
	/* aliases: alias name -> (rule name -> field) */
	char **alias_name, **alias_rule, **alias_field;
	unsigned naliases;
	uint64_t span_ns;
	bool has_cond;
	int64_t gt, gte, lt, lte, eq, neq;
	unsigned condmask;  /* 1 gt, 2 gte, 4 lt, 8 lte, 16 eq, 32 neq */
	char *value_field;  /* value_count */
	bool generate;
	/* run time */
	struct corr_group *groups; /* open-addressed table of RF_CORR_GROUPS_MAX */
	unsigned ngroups;
};

struct rule {
	char *file;
	unsigned line, col;
	size_t rep_index;   /* its entry in the report, or (size_t)-1 */
	char *id, *name, *title, *level;
	char **tags;
	unsigned ntags;
	uint64_t classes;   /* bit per class id */
	struct node *cond;
	struct cnode *code; /* matcher: cond flattened */
	unsigned ncode;
	struct wmask *masks; /* matcher: the bit groups of N_ANYBITS and N_ALLBITS */
	unsigned nmasks;
	bool ok;            /* loaded; not invalid or unsupported */
	bool always;        /* condition true with every atom false: evaluate on every event */
	bool emit;          /* report hits (false for rules only used by correlations) */
	struct corr *corr;  /* a correlation rule */
	int *corrs;         /* correlations that reference this rule */
	unsigned ncorrs;
	/* per event, matcher */
	uint32_t stamp;
};

struct fdb {            /* one field's wildcard patterns and regular expressions */
	int field;
	hs_database_t *db;
	int *ids;           /* Hyperscan id (index) -> atom */
	unsigned n, cap;
	bool empty_matches; /* scan even an empty value */
	uint32_t stamp;     /* lazy databases: event stamp of the last scan */
};

/* One literal of a concatenated scan: which atom, in which field's segment. */
struct litinfo {
	int atom;
	uint16_t slot;
	uint8_t anch;      /* 1 anchored at the segment's start, 2 at its end */
	bool pre;          /* a required literal of the regular expression ATOM (its
			    * prefilter): a hit has the expression scanned, not its bit set */
	bool caseless;     /* pre: the literal's case */
	uint32_t llen;
	char *plit;        /* pre: the literal's bytes (owned) */
};

/* A literal database scanned once over several fields of an event, laid out one
 * after the other with NUL between them (no literal holds a NUL, so no match spans
 * two fields); each match is checked against its own field's segment. One scan
 * instead of one per field: a Hyperscan scan has a fixed cost. */
struct catdb {
	hs_database_t *db;
	struct litinfo *info; /* Hyperscan id -> literal */
	unsigned n, cap;
	int16_t slot_field[RF_FIELDS_MAX];
	unsigned nslots;
	char *buf;
	size_t bufsz;
	uint32_t seg_start[RF_FIELDS_MAX], seg_end[RF_FIELDS_MAX];
	uint32_t stamp;     /* lazy: event stamp of the last scan */
	uint32_t ask_stamp; /* lazy: event stamp of the count below */
	unsigned asks;      /* lazy: literals searched directly in this event */
};

/* Literals anchored at one end of a field, as a trie walked from that end
 * (anchor.c). A terminal names the atom whose literal ends at its node. */
struct aterm {
	uint32_t node;
	int atom;
	uint32_t off;       /* the literal's bytes in pool (cased literals are compared) */
	bool cased;
	bool exact;         /* the literal is the whole value (equality) */
};

struct atrie {
	bool rev;           /* walked from the end of the value (endswith, equality) */
	bool only_exact;    /* every literal is a whole value: longer values skip the walk */
	size_t maxlen;      /* longest literal */
	uint32_t root[256]; /* the root's children, directly: most walks end there */
	unsigned bits;      /* while adding: edge table of 1 << bits slots */
	size_t mask;
	uint64_t *keys;     /* (node << 8 | byte) + 1; 0 empty */
	uint32_t *kids;
	uint32_t *efirst;   /* once finished: node -> its edges ebyte/ekid[efirst[n] .. efirst[n + 1]),
			     * sorted by byte (most nodes have one or two) */
	uint8_t *ebyte;
	uint32_t *ekid;
	uint32_t nedges, nnodes;
	struct aterm *terms; /* sorted by node once finished */
	unsigned nterms, capterms;
	uint32_t *tfirst;   /* node -> its terminals: terms[tfirst[n] .. tfirst[n + 1]) */
	uint8_t *pool;
	size_t npool, cappool;
};

struct anch {           /* one field's anchored literals */
	int field;
	struct atrie fwd;   /* startswith */
	struct atrie rev;   /* endswith and equality */
};

struct cls {
	const struct rf_class_desc *c;
	uint16_t soff[RF_FIELDS_MAX]; /* field index -> offset of its string descriptor when
				       * it is a stored string (read straight from the
				       * event), else 0 */
	struct anch *anch;  /* anchored literals, matched on every event: the triggers, and
			     * the lazy ones on the fields that have triggers */
	unsigned nanch;
	int16_t anch_of[RF_FIELDS_MAX]; /* field index -> anch index, or -1 */
	struct catdb tcat;  /* literals some rule needs to become a candidate: every event */
	struct catdb *lcats; /* per field: literals only candidates ask for, scanned on demand */
	unsigned nlcats;
	int16_t lcat_of[RF_FIELDS_MAX]; /* field index -> lcats index, or -1 */
	int *rules;         /* rules for this class */
	unsigned nrules;
	int *always;
	unsigned nalways;
	int *eager;         /* atoms evaluated directly */
	unsigned neager;
	struct fdb *fdbs;   /* scanned for every event of the class */
	unsigned nfdbs;
	struct fdb *lfdbs;  /* lazy: scanned when a candidate rule first needs the field */
	unsigned nlfdbs;
	int16_t lfdb_of[RF_FIELDS_MAX]; /* field index -> lfdbs index, or -1 */
};

struct fval {           /* a field's value, rendered for matching */
	const char *s;
	size_t len;
	bool present;
	uint32_t stamp;
};

struct rf_detect {
	struct rule *rules;
	unsigned nrules, caprules;
	struct atom *atoms;
	unsigned natoms, capatoms;
	int *atom_hash;     /* open addressing over atoms by key */
	unsigned hashcap;
	struct node **nodes; /* every node, for freeing */
	size_t nnodes, capnodes;
	unsigned nfiles;
	int mode;           /* 0 until compiled */
	struct cls cls[RF_CLASSES_MAX];
	hs_scratch_t *scratch;
	/* per event scratch */
	uint64_t *bits;
	uint8_t *alazy;     /* per atom: lazy (copy of atoms[i].lazy, compact for the hot loop) */
	int *setlist;
	unsigned nset;
	int *cand;
	int *pending;       /* regular expressions whose prefilter hit in this event */
	unsigned npending;
	uint32_t stamp;
	const struct rf_event_hdr *ev;
	const struct rf_class_desc *evc;
	const uint16_t *soff; /* the event's class's */
	struct fval fv[RF_FIELDS_MAX];
	char *fbuf[RF_FIELDS_MAX]; /* rendered numbers, IPs and derived strings */
	char *lcbuf[RF_FIELDS_MAX]; /* values in lowercase (ASCII), made when first asked */
	uint32_t lcstamp[RF_FIELDS_MAX];
	struct rf_detect_stats st;
	char keybuf[RF_CORR_KEY_MAX];
	char groupbuf[RF_CORR_KEY_MAX];
};

/* sigma_load.c */
int rf_detect_parse_doc_(struct rf_detect *d, const char *file, const char *buf, size_t len,
			 struct rf_detect_report *rep);
void rf_detect_report_add_(struct rf_detect_report *rep, const char *file, unsigned line,
			   unsigned col, const char *id, const char *title, bool corr, int status,
			   const char *reason, size_t *index);
void rf_detect_report_set_(struct rf_detect_report *rep, size_t index, int status,
			   const char *reason);

/* match.c */
bool rf_detect_glob_(const uint16_t *tok, size_t ntok, const char *s, size_t len, bool cased);
int rf_detect_field_render_(struct rf_detect *d, int fidx, struct fval **out);

/* Value of field FIDX of the current event, rendered as text; cached per event (the
 * cache check inline: most calls find the value rendered). Returns 0, or -ENOMEM. */
static inline int rf_detect_field_(struct rf_detect *d, int fidx, struct fval **out)
{
	struct fval *v = &d->fv[fidx];

	if (v->stamp == d->stamp) {
		*out = v;
		return 0;
	}
	if (d->soff[fidx]) {
		/* a stored string: rf_event_validate checked its offset and length, it is
		 * inside the event and NUL-terminated, or absent (0, 0) */
		struct rf_str sd;
		memcpy(&sd, (const char *)d->ev + d->soff[fidx], sizeof(sd));
		v->stamp = d->stamp;
		v->present = sd.off != 0;
		v->s = sd.off ? (const char *)d->ev + sd.off : "";
		v->len = sd.off ? sd.len : 0;
		*out = v;
		return 0;
	}
	return rf_detect_field_render_(d, fidx, out);
}
bool rf_detect_atom_eval_(struct rf_detect *d, const struct atom *a);
int rf_detect_lit_prepare_(struct atom *a, const uint16_t *tok, size_t len);
/* Required literals of a regular expression, for its prefilter (match.c; limits in
 * ringfence/limits.h). */
unsigned rf_detect_re_factors_(const char *re, char (*out)[RF_RE_FACTOR_LEN], size_t *lens);
int rf_detect_find_lit_(struct rf_detect *d, const struct atom *a, int fidx);
int rf_detect_glob_to_hs_(const uint16_t *tok, size_t ntok, char **out);
int rf_detect_re_to_posix_(const char *re, char **out);
int rf_detect_parse_ip_(const char *s, uint8_t out[16]);

/* anchor.c */
int rf_detect_trie_add_(struct atrie *t, const uint16_t *tok, size_t len, int atom, bool cased,
			bool exact);
int rf_detect_trie_finish_(struct atrie *t);
void rf_detect_trie_free_(struct atrie *t);
void rf_detect_anch_walk_all_(struct rf_detect *d, const struct cls *c);

/* The matcher's per-event bitset of atoms that hold, and the list of those set. */
static inline bool rf_detect_bit_(const struct rf_detect *d, int a)
{
	return d->bits[(unsigned)a >> 6] >> ((unsigned)a & 63) & 1;
}

static inline void rf_detect_setbit_(struct rf_detect *d, int a)
{
	uint64_t m = 1ull << ((unsigned)a & 63);

	if (!(d->bits[(unsigned)a >> 6] & m)) {
		d->bits[(unsigned)a >> 6] |= m;
		d->setlist[d->nset++] = a;
	}
}

/* engine.c */
bool rf_detect_eval_naive_(struct rf_detect *d, const struct node *n, unsigned depth);

#endif
