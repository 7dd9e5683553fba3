// SPDX-License-Identifier: MIT
/*
 * anchor.c: literals anchored at the start or the end of a field (Sigma's
 * startswith, endswith and plain equality), matched by walking a trie from that end
 * of the value instead of scanning the value with Hyperscan.
 *
 * Why: most of SigmaHQ's process_creation tests are `Image|endswith: '/name'`. In the
 * shared Hyperscan scan every one of them is looked for at every byte of the field,
 * although it can only match at the end; the scan's cost grows with the bytes and with
 * the number of literals. A walk from the end of `/usr/bin/grep` stops after a few
 * bytes, whatever the number of literals, and a field whose literals are all anchored
 * (ParentImage) is not scanned at all. Measured with callgrind on replayed process
 * events: see docs/detect.md, "Performance".
 *
 * The trie holds the literals case-folded (ASCII); a literal with `cased` is checked
 * byte for byte at its terminal node. While the trie is built its edges live in one
 * open-addressed hash table keyed by (node, byte); finished, each node's edges are
 * sorted by byte and a child where literals end is marked (TRIE_TERM). Terminals are
 * in one array sorted by node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect_int.h"

/* In a finished trie, children (root[], ekid[]) carry this bit when literals end at them. */
#define TRIE_TERM 0x80000000u

static inline uint8_t fold(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* fold() as a table, for the walks: one load a step */
static const uint8_t fold_tab[256] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
	32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47,
	48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
	64, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
	112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 91, 92, 93, 94, 95,
	96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111,
	112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127,
	128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143,
	144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159,
	160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175,
	176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191,
	192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207,
	208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223,
	224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239,
	240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255,
};

static inline uint64_t edge_key(uint32_t node, uint8_t c)
{
	return ((uint64_t)node << 8 | c) + 1; /* 0 marks an empty slot */
}

static inline size_t edge_slot(const struct atrie *t, uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - t->bits));
}

/* The child of NODE by byte C, or 0 (the root is nobody's child). */
static inline uint32_t child(const struct atrie *t, uint32_t node, uint8_t c)
{
	uint64_t key;
	size_t i;

	if (!node)
		return t->root[c];
	if (!t->keys)
		return 0; /* literals of one byte only */
	key = edge_key(node, c);
	for (i = edge_slot(t, key);; i = (i + 1) & t->mask) {
		if (t->keys[i] == key)
			return t->kids[i];
		if (!t->keys[i])
			return 0;
	}
}

static int grow_edges(struct atrie *t)
{
	unsigned bits = t->bits ? t->bits + 1 : 6;
	size_t n = (size_t)1 << bits, i, old = t->bits ? (size_t)1 << t->bits : 0;
	uint64_t *keys = calloc(n, sizeof(*keys));
	uint32_t *kids = calloc(n, sizeof(*kids));
	struct atrie nt = {.bits = bits, .keys = keys, .kids = kids};

	if (!keys || !kids) {
		free(keys);
		free(kids);
		return -ENOMEM;
	}
	for (i = 0; i < old; i++) {
		size_t j;
		if (!t->keys[i])
			continue;
		for (j = edge_slot(&nt, t->keys[i]); keys[j]; j = (j + 1) & (n - 1))
			;
		keys[j] = t->keys[i];
		kids[j] = t->kids[i];
	}
	free(t->keys);
	free(t->kids);
	t->keys = keys;
	t->kids = kids;
	t->bits = bits;
	t->mask = n - 1;
	return 0;
}

int rf_detect_trie_add_(struct atrie *t, const uint16_t *tok, size_t len, int atom, bool cased,
			bool exact)
{
	uint32_t node = 0;
	size_t d;

	if (!len || len > RF_RULE_VALUE_MAX)
		return -EINVAL;
	for (d = 0; d < len; d++) {
		uint8_t c = fold((uint8_t)tok[t->rev ? len - 1 - d : d]);
		uint32_t next = child(t, node, c);
		if (!next && node == 0) {
			if (t->nnodes + 1 >= UINT32_MAX)
				return -E2BIG;
			next = t->root[c] = ++t->nnodes;
		} else if (!next) {
			uint64_t key = edge_key(node, c);
			size_t i;
			if (t->nnodes + 1 >= UINT32_MAX)
				return -E2BIG;
			/* keep the table at most half full */
			if ((!t->keys || (size_t)(t->nedges + 1) * 2 > (size_t)1 << t->bits) && grow_edges(t) < 0)
				return -ENOMEM;
			for (i = edge_slot(t, key); t->keys[i]; i = (i + 1) & (((size_t)1 << t->bits) - 1))
				;
			next = ++t->nnodes; /* node ids 1..nnodes; 0 is the root */
			t->keys[i] = key;
			t->kids[i] = next;
			t->nedges++;
		}
		node = next;
	}
	if (t->nterms == t->capterms) {
		unsigned nc = t->capterms ? t->capterms * 2 : 16;
		void *q = realloc(t->terms, nc * sizeof(*t->terms));
		if (!q)
			return -ENOMEM;
		t->terms = q;
		t->capterms = nc;
	}
	if (t->npool + len > t->cappool) {
		size_t nc = t->cappool ? t->cappool * 2 : 256;
		void *q;
		while (nc < t->npool + len)
			nc *= 2;
		if (!(q = realloc(t->pool, nc)))
			return -ENOMEM;
		t->pool = q;
		t->cappool = nc;
	}
	for (d = 0; d < len; d++)
		t->pool[t->npool + d] = (uint8_t)tok[d];
	t->only_exact = exact && (t->only_exact || !t->nterms);
	if (len > t->maxlen)
		t->maxlen = len;
	t->terms[t->nterms++] = (struct aterm){.node = node, .atom = atom, .off = (uint32_t)t->npool,
					       .cased = cased, .exact = exact};
	t->npool += len;
	return 0;
}

static int by_node(const void *a, const void *b)
{
	const struct aterm *x = a, *y = b;

	return x->node < y->node ? -1 : x->node > y->node;
}

static int by_key(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Lay the edges out per node, sorted by byte: a walk then reads one or two
 * neighbouring entries per step instead of hashing (callgrind: about half the
 * instructions of the hashed lookup). The hash table goes. */
static int edges_finish(struct atrie *t)
{
	uint64_t *e = calloc(t->nedges ? t->nedges : 1, sizeof(*e));
	size_t i, n = 0, slots = t->keys ? (size_t)1 << t->bits : 0;

	t->efirst = calloc((size_t)t->nnodes + 2, sizeof(*t->efirst));
	t->ebyte = malloc(t->nedges ? t->nedges : 1);
	t->ekid = malloc((t->nedges ? t->nedges : 1) * sizeof(*t->ekid));
	if (!e || !t->efirst || !t->ebyte || !t->ekid) {
		free(e);
		return -ENOMEM;
	}
	/* (parent << 8 | byte) << 32 | child: sorting orders by parent, then byte */
	for (i = 0; i < slots; i++)
		if (t->keys[i])
			e[n++] = (t->keys[i] - 1) << 32 | t->kids[i];
	qsort(e, n, sizeof(*e), by_key);
	for (i = 0; i < n; i++) {
		uint32_t parent = (uint32_t)(e[i] >> 40);
		t->ebyte[i] = (uint8_t)(e[i] >> 32);
		t->ekid[i] = (uint32_t)e[i];
		t->efirst[parent + 1]++;
	}
	for (i = 0; i <= t->nnodes; i++)
		t->efirst[i + 1] += t->efirst[i];
	free(e);
	free(t->keys);
	free(t->kids);
	t->keys = NULL;
	t->kids = NULL;
	return 0;
}

int rf_detect_trie_finish_(struct atrie *t)
{
	unsigned i;

	if (!t->nterms)
		return 0;
	if (t->nnodes >= (1u << 24))
		return -E2BIG; /* edges_finish packs node ids in 24 bits */
	if (edges_finish(t) < 0)
		return -ENOMEM;
	qsort(t->terms, t->nterms, sizeof(*t->terms), by_node);
	t->tfirst = calloc((size_t)t->nnodes + 2, sizeof(*t->tfirst));
	if (!t->tfirst)
		return -ENOMEM;
	for (i = 0; i < t->nterms; i++)
		t->tfirst[t->terms[i].node + 1]++;
	for (i = 0; i <= t->nnodes; i++)
		t->tfirst[i + 1] += t->tfirst[i];
	/* mark the children where literals end, so that a walk need not look */
	for (i = 0; i < 256; i++)
		if (t->root[i] && t->tfirst[t->root[i]] != t->tfirst[t->root[i] + 1])
			t->root[i] |= TRIE_TERM;
	for (i = 0; i < t->nedges; i++)
		if (t->tfirst[t->ekid[i]] != t->tfirst[t->ekid[i] + 1])
			t->ekid[i] |= TRIE_TERM;
	return 0;
}

void rf_detect_trie_free_(struct atrie *t)
{
	free(t->keys);
	free(t->kids);
	free(t->terms);
	free(t->tfirst);
	free(t->efirst);
	free(t->ebyte);
	free(t->ekid);
	free(t->pool);
	memset(t, 0, sizeof(*t));
}


/* Set the bits of the atoms whose literals end at NODE, DEPTH bytes in; AT is where
 * the literal would start in the value (LEN bytes). */
static void terminals(struct rf_detect *d, const struct atrie *t, uint32_t node, const uint8_t *at,
		      size_t depth, size_t len)
{
	uint32_t k;

	for (k = t->tfirst[node]; k < t->tfirst[node + 1]; k++) {
		const struct aterm *e = &t->terms[k];
		if (e->exact && depth != len)
			continue;
		if (e->cased && memcmp(at, t->pool + e->off, depth))
			continue;
		rf_detect_setbit_(d, e->atom);
	}
}

/* Walk the value U (LEN bytes) from its start (REV false) or from its end (REV true, a
 * reversed trie), and set the bit of every atom whose literal sits there. Stops at
 * the first byte no literal continues with: one or two steps for most values
 * (measured: 2.1 on replayed process events). Inlined with REV a constant. */
__attribute__((always_inline)) static inline void walk(struct rf_detect *d, const struct atrie *t, const uint8_t *u,
							size_t len, bool rev)
{
	size_t depth, n = len < t->maxlen ? len : t->maxlen;
	const uint8_t *p;
	uint32_t x, node, e, end;
	uint8_t c;

	if (!n || (t->only_exact && len > t->maxlen))
		return;
	p = rev ? u + len - 1 : u;
	x = t->root[fold_tab[*p]]; /* a child: its node id, TRIE_TERM when literals end there */
	for (depth = 1;; depth++) {
		if (!x)
			return;
		node = x & ~TRIE_TERM;
		if (node > t->nnodes)
			return; /* cannot happen: ours, checked anyway */
		if (x & TRIE_TERM)
			terminals(d, t, node, rev ? p : u, depth, len);
		if (depth == n)
			return;
		p += rev ? -1 : 1;
		c = fold_tab[*p];
		x = 0;
		/* the node's edges, sorted by byte */
		for (e = t->efirst[node], end = t->efirst[node + 1]; e < end; e++)
			if (t->ebyte[e] >= c) {
				if (t->ebyte[e] == c)
					x = t->ekid[e];
				break;
			}
	}
}

/* Walk every field of class C that has anchored literals (one call, the walks inlined). */
void rf_detect_anch_walk_all_(struct rf_detect *d, const struct cls *c)
{
	unsigned i;

	for (i = 0; i < c->nanch; i++) {
		const struct anch *an = &c->anch[i];
		struct fval *v;
		if (rf_detect_field_(d, an->field, &v) < 0 || !v->len)
			continue;
		if (an->fwd.tfirst)
			walk(d, &an->fwd, (const uint8_t *)v->s, v->len, false);
		if (an->rev.tfirst)
			walk(d, &an->rev, (const uint8_t *)v->s, v->len, true);
	}
}
