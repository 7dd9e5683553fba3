// SPDX-License-Identifier: MIT
/*
 * schemagen: generate the event structs, the run-time field table and the field
 * documentation from schema/events.yaml (see the comment at the top of that file).
 *
 *   schemagen SCHEMA.yaml OUT_HEADER OUT_TABLE_C OUT_DOC_MD
 *
 * Layout rules: fields keep their declared order; each fixed field is aligned to its
 * own size; string descriptors (struct rf_str) are 4 bytes, 2-aligned; the struct is
 * padded to 8 bytes with explicit _pad fields so that clang -target bpf and the host
 * compiler agree byte for byte (the header also carries _Static_assert checks).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_CLASSES 64
#define MAX_FIELDS 64
#define MAX_HUMAN 8

struct field {
	char *name, *json, *sigma, *doc, *from_name;
	const char *type; /* canonical type name */
	const char *source;
	int size, align, max, offset, since, from;
	int is_str;
};

struct cls {
	char *name, *sigma_category, *doc;
	int id, nfields, size;
	struct field f[MAX_FIELDS];
	char *human[MAX_HUMAN];
	int nhuman;
};

static const char *schema_path;
static int schema_version;
static struct field hdr[16];
static int nhdr;
static struct cls classes[MAX_CLASSES];
static int nclasses;

static void die(const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s", schema_path);
	if (n)
		fprintf(stderr, ":%zu:%zu", n->start_mark.line + 1, n->start_mark.column + 1);
	fprintf(stderr, ": error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const char *scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		die(n, "expected a scalar");
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_pair_t *p;

	if (!m || m->type != YAML_MAPPING_NODE)
		die(m, "expected a mapping");
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static char *opt_str(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	yaml_node_t *v = map_get(d, m, key);
	return v ? strdup(scalar(v)) : NULL;
}

static int to_int(const yaml_node_t *n)
{
	char *end;
	long v = strtol(scalar(n), &end, 10);

	if (*end || v < 0 || v > 65535)
		die(n, "expected a number from 0 to 65535");
	return (int)v;
}

static int valid_ident(const char *s)
{
	if (!s || !*s || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static const struct {
	const char *name;
	int size, is_str;
} types[] = {
	{"u8", 1, 0}, {"u16", 2, 0}, {"u32", 4, 0}, {"u64", 8, 0}, {"s32", 4, 0},
	{"s64", 8, 0}, {"bool", 1, 0}, {"ip", 16, 0}, {"str", 4, 1}, {"path", 4, 1},
	{"argv", 4, 1},
};

static void parse_field(yaml_document_t *d, yaml_node_t *n, struct field *f, int header)
{
	yaml_node_t *t = map_get(d, n, "type"), *v;
	const char *tn;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->name = opt_str(d, n, "name");
	if (!valid_ident(f->name))
		die(n, "field needs a C identifier as name");
	if (!t)
		die(n, "field %s has no type", f->name);
	tn = scalar(t);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i].name, tn))
			break;
	if (i == sizeof(types) / sizeof(types[0]))
		die(t, "field %s: unknown type '%s'", f->name, tn);
	f->type = types[i].name;
	f->size = types[i].size;
	f->is_str = types[i].is_str;
	f->align = f->is_str ? 2 : (f->size > 8 ? 1 : f->size);
	f->json = opt_str(d, n, "json");
	if (!f->json)
		f->json = strdup(f->name);
	f->sigma = opt_str(d, n, "sigma");
	f->doc = opt_str(d, n, "doc");
	if (!f->doc)
		die(n, "field %s has no doc", f->name);
	f->source = header ? "header" : "kernel";
	if ((v = map_get(d, n, "source"))) {
		const char *s = scalar(v);
		if (header || (strcmp(s, "kernel") && strcmp(s, "enrich") && strcmp(s, "derived")))
			die(v, "field %s: source must be kernel, enrich or derived", f->name);
		f->source = !strcmp(s, "kernel") ? "kernel" : !strcmp(s, "enrich") ? "enrich" : "derived";
	}
	f->since = (v = map_get(d, n, "since")) ? to_int(v) : 1;
	if (f->since > schema_version)
		die(n, "field %s: since %d is newer than schema_version", f->name, f->since);
	if ((v = map_get(d, n, "max"))) {
		if (!f->is_str)
			die(v, "field %s: only str, path and argv take max", f->name);
		f->max = to_int(v);
		if (f->max < 2)
			die(v, "field %s: max must be at least 2", f->name);
	}
	f->from = -1;
	if (!strcmp(f->source, "derived")) {
		f->from_name = opt_str(d, n, "from");
		if (!f->from_name)
			die(n, "derived field %s needs from", f->name);
		if (!f->is_str)
			die(n, "derived field %s must be a string type", f->name);
		f->size = 0;
	} else if (f->is_str && !f->max) {
		die(n, "field %s: string fields need max", f->name);
	}
}

static void layout(struct field *f, int n, int *offset, const yaml_node_t *where)
{
	int i, j;

	for (i = 0; i < n; i++) {
		if (!strcmp(f[i].source, "derived"))
			continue;
		*offset = (*offset + f[i].align - 1) / f[i].align * f[i].align;
		f[i].offset = *offset;
		*offset += f[i].size;
		for (j = 0; j < i; j++)
			if (!strcmp(f[i].name, f[j].name) || !strcmp(f[i].json, f[j].json))
				die(where, "duplicate field name %s", f[i].name);
	}
	*offset = (*offset + 7) / 8 * 8;
}

static void parse(const char *path)
{
	FILE *fp = fopen(path, "rb");
	yaml_parser_t p;
	yaml_document_t d;
	yaml_node_t *root, *v;
	yaml_node_item_t *it;

	if (!fp)
		die(NULL, "cannot open: %s", strerror(errno));
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, fp);
	if (!yaml_parser_load(&p, &d))
		die(NULL, "YAML error at line %zu: %s", p.problem_mark.line + 1, p.problem);
	root = yaml_document_get_root_node(&d);
	v = map_get(&d, root, "schema_version");
	if (!v)
		die(root, "schema_version missing");
	schema_version = to_int(v);

	v = map_get(&d, root, "header");
	if (!v || v->type != YAML_SEQUENCE_NODE)
		die(root, "header must be a list of fields");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		if (nhdr >= 16)
			die(v, "too many header fields");
		parse_field(&d, yaml_document_get_node(&d, *it), &hdr[nhdr++], 1);
		if (hdr[nhdr - 1].is_str)
			die(v, "header fields must be numbers");
	}
	{
		int off = 8; /* size, class_id, flags, cpu */
		layout(hdr, nhdr, &off, v);
		if (off != 48)
			die(v, "the header must be 48 bytes, is %d", off);
	}

	v = map_get(&d, root, "classes");
	if (!v || v->type != YAML_SEQUENCE_NODE)
		die(root, "classes must be a list");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *cn = yaml_document_get_node(&d, *it), *fl, *h;
		yaml_node_item_t *fi;
		struct cls *c;
		int off = 48, i, j;

		if (nclasses >= MAX_CLASSES - 1)
			die(cn, "too many classes");
		c = &classes[nclasses++];
		c->name = opt_str(&d, cn, "name");
		if (!valid_ident(c->name))
			die(cn, "class needs a C identifier as name");
		if (!(h = map_get(&d, cn, "id")))
			die(cn, "class %s has no id", c->name);
		c->id = to_int(h);
		if (c->id < 1 || c->id >= MAX_CLASSES)
			die(h, "class id must be 1..%d", MAX_CLASSES - 1);
		for (i = 0; i < nclasses - 1; i++)
			if (classes[i].id == c->id || !strcmp(classes[i].name, c->name))
				die(cn, "class %s: duplicate id or name", c->name);
		c->sigma_category = opt_str(&d, cn, "sigma_category");
		c->doc = opt_str(&d, cn, "doc");
		if (!c->doc)
			die(cn, "class %s has no doc", c->name);
		fl = map_get(&d, cn, "fields");
		if (!fl || fl->type != YAML_SEQUENCE_NODE)
			die(cn, "class %s: fields must be a list", c->name);
		for (fi = fl->data.sequence.items.start; fi < fl->data.sequence.items.top; fi++) {
			if (c->nfields >= MAX_FIELDS - 16)
				die(fl, "class %s: too many fields", c->name);
			parse_field(&d, yaml_document_get_node(&d, *fi), &c->f[c->nfields++], 0);
		}
		layout(c->f, c->nfields, &off, cn);
		c->size = off;
		for (i = 0; i < c->nfields; i++) {
			struct field *f = &c->f[i];
			for (j = 0; j < nhdr; j++)
				if (!strcmp(f->name, hdr[j].name) || !strcmp(f->json, hdr[j].json))
					die(cn, "class %s: field %s clashes with a header field", c->name, f->name);
			if (!f->from_name)
				continue;
			for (j = 0; j < c->nfields; j++)
				if (!strcmp(c->f[j].name, f->from_name) && strcmp(c->f[j].source, "derived"))
					f->from = j;
			if (f->from < 0)
				die(cn, "class %s: field %s derives from unknown field %s", c->name,
				    f->name, f->from_name);
		}
		if ((h = map_get(&d, cn, "human"))) {
			if (h->type != YAML_SEQUENCE_NODE)
				die(h, "human must be a list of field names");
			for (fi = h->data.sequence.items.start; fi < h->data.sequence.items.top; fi++) {
				const char *hn = scalar(yaml_document_get_node(&d, *fi));
				for (j = 0; j < c->nfields && strcmp(c->f[j].name, hn); j++)
					;
				if (j == c->nfields || c->nhuman >= MAX_HUMAN)
					die(h, "class %s: human names unknown field %s", c->name, hn);
				c->human[c->nhuman++] = strdup(hn);
			}
		}
	}
	yaml_document_delete(&d);
	yaml_parser_delete(&p);
	fclose(fp);
}

/* FNV-1a over the canonical layout: only what changes the binary format counts. */
static uint64_t hash;
static void hash_str(const char *s)
{
	if (!hash)
		hash = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		hash ^= (unsigned char)*s;
		hash *= 0x100000001b3ull;
	}
	hash ^= 0xff;
	hash *= 0x100000001b3ull;
}

static void hash_field(const struct field *f)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s:%s:%s:%d:%d:%d", f->name, f->type, f->source, f->offset,
		 f->size, f->max);
	hash_str(buf);
}

static void compute_hash(void)
{
	char buf[64];
	int i, j;

	snprintf(buf, sizeof(buf), "v%d", schema_version);
	hash_str(buf);
	for (i = 0; i < nhdr; i++)
		hash_field(&hdr[i]);
	for (i = 0; i < nclasses; i++) {
		snprintf(buf, sizeof(buf), "class:%d:%s:%d", classes[i].id, classes[i].name,
			 classes[i].size);
		hash_str(buf);
		for (j = 0; j < classes[i].nfields; j++)
			hash_field(&classes[i].f[j]);
	}
}

static void upper(char *dst, const char *src)
{
	while (*src)
		*dst++ = (char)toupper((unsigned char)*src++);
	*dst = 0;
}

static const char *ctype(const struct field *f)
{
	if (f->is_str)
		return "struct rf_str";
	if (!strcmp(f->type, "u8") || !strcmp(f->type, "bool"))
		return "__u8";
	if (!strcmp(f->type, "u16"))
		return "__u16";
	if (!strcmp(f->type, "u32"))
		return "__u32";
	if (!strcmp(f->type, "u64"))
		return "__u64";
	if (!strcmp(f->type, "s32"))
		return "__s32";
	if (!strcmp(f->type, "s64"))
		return "__s64";
	return "__u8"; /* ip: array below */
}

static void emit_members(FILE *o, const char *sname, struct field *f, int n, int start, int end)
{
	int i, pos = start, pad = 0;

	for (i = 0; i < n; i++) {
		if (!strcmp(f[i].source, "derived"))
			continue;
		if (f[i].offset > pos)
			fprintf(o, "\t__u8 _pad%d[%d];\n", pad++, f[i].offset - pos);
		if (!strcmp(f[i].type, "ip"))
			fprintf(o, "\t__u8 %s[16]; /* %s */\n", f[i].name, f[i].doc);
		else
			fprintf(o, "\t%s %s; /* %s */\n", ctype(&f[i]), f[i].name, f[i].doc);
		pos = f[i].offset + f[i].size;
	}
	if (end > pos)
		fprintf(o, "\t__u8 _pad%d[%d];\n", pad, end - pos);
	(void)sname;
}

static void emit_header(const char *path)
{
	FILE *o = fopen(path, "w");
	char up[128];
	int i, j, maxid = 0;

	if (!o)
		die(NULL, "cannot write %s: %s", path, strerror(errno));
	fprintf(o, "/* Generated by tools/schemagen from schema/events.yaml. Do not edit. */\n"
		   "#ifndef RINGFENCE_EVENTS_GEN_H\n#define RINGFENCE_EVENTS_GEN_H\n\n");
	fprintf(o, "#define RF_SCHEMA_VERSION %d\n#define RF_SCHEMA_HASH 0x%016llxULL\n\n",
		schema_version, (unsigned long long)hash);
	fprintf(o, "enum rf_class_id {\n");
	for (i = 0; i < nclasses; i++) {
		upper(up, classes[i].name);
		fprintf(o, "\tRF_CLASS_%s = %d,\n", up, classes[i].id);
		if (classes[i].id > maxid)
			maxid = classes[i].id;
	}
	fprintf(o, "};\n#define RF_CLASS_COUNT %d /* one more than the highest class id */\n\n",
		maxid + 1);
	fprintf(o, "/* A string field: bytes [off, off+len) of the event, followed by a NUL. */\n"
		   "struct rf_str {\n\t__u16 off;\n\t__u16 len;\n};\n\n");
	fprintf(o, "struct rf_event_hdr {\n"
		   "\t__u16 size; /* bytes in the whole event, header and data included */\n"
		   "\t__u16 class_id; /* enum rf_class_id */\n"
		   "\t__u16 flags; /* RF_EVF_* (ringfence/event.h) */\n"
		   "\t__u16 cpu; /* CPU the sensor saw the event on */\n");
	emit_members(o, "rf_event_hdr", hdr, nhdr, 8, 48);
	fprintf(o, "};\n_Static_assert(sizeof(struct rf_event_hdr) == 48, \"header layout\");\n\n");
	for (i = 0; i < nclasses; i++) {
		struct cls *c = &classes[i];
		fprintf(o, "/* %s: %s */\nstruct rf_ev_%s {\n\tstruct rf_event_hdr hdr;\n", c->name,
			c->doc, c->name);
		emit_members(o, c->name, c->f, c->nfields, 48, c->size);
		fprintf(o, "};\n_Static_assert(sizeof(struct rf_ev_%s) == %d, \"%s layout\");\n",
			c->name, c->size, c->name);
		for (j = 0; j < c->nfields; j++)
			if (strcmp(c->f[j].source, "derived"))
				fprintf(o,
					"_Static_assert(__builtin_offsetof(struct rf_ev_%s, %s) == %d, "
					"\"%s.%s\");\n",
					c->name, c->f[j].name, c->f[j].offset, c->name, c->f[j].name);
		for (j = 0; j < c->nfields; j++)
			if (c->f[j].is_str && c->f[j].max) {
				char fu[128];
				upper(up, c->name);
				upper(fu, c->f[j].name);
				fprintf(o, "#define RF_%s_%s_MAX %d\n", up, fu, c->f[j].max);
			}
		fprintf(o, "\n");
	}
	fprintf(o, "#endif\n");
	fclose(o);
}

static const char *ft_enum(const struct field *f)
{
	static char buf[32];
	upper(buf, f->type);
	if (!strcmp(f->type, "bool"))
		return "RF_FT_BOOL";
	memmove(buf + 6, buf, strlen(buf) + 1);
	memcpy(buf, "RF_FT_", 6);
	return buf;
}

static void cstr(FILE *o, const char *s)
{
	if (!s) {
		fputs("NULL", o);
		return;
	}
	fputc('"', o);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', o);
		fputc(*s, o);
	}
	fputc('"', o);
}

static void emit_field_desc(FILE *o, const struct field *f, int from_shift)
{
	char src[16];
	upper(src, f->source);
	fprintf(o, "\t{ .name = \"%s\", .json = \"%s\", .sigma = ", f->name, f->json);
	cstr(o, f->sigma);
	fprintf(o, ", .doc = ");
	cstr(o, f->doc);
	fprintf(o, ",\n\t  .type = %s, .source = RF_FS_%s, .offset = %d, .size = %d, .max = %d, "
		   ".from = %d, .since = %d },\n",
		ft_enum(f), src, f->offset, f->size, f->max, f->from < 0 ? -1 : f->from + from_shift,
		f->since);
}

static void emit_table(const char *path)
{
	FILE *o = fopen(path, "w");
	int i, j;

	if (!o)
		die(NULL, "cannot write %s: %s", path, strerror(errno));
	fprintf(o, "/* Generated by tools/schemagen from schema/events.yaml. Do not edit. */\n"
		   "#include \"ringfence/schema.h\"\n#include \"schema_int.h\"\n\n");
	for (i = 0; i < nclasses; i++) {
		struct cls *c = &classes[i];
		fprintf(o, "static const struct rf_field_desc fields_%s[] = {\n", c->name);
		for (j = 0; j < nhdr; j++)
			emit_field_desc(o, &hdr[j], 0);
		for (j = 0; j < c->nfields; j++)
			emit_field_desc(o, &c->f[j], nhdr);
		fprintf(o, "};\n\n");
	}
	fprintf(o, "const struct rf_class_desc rf_schema_classes_[RF_CLASS_COUNT] = {\n");
	for (i = 0; i < nclasses; i++) {
		struct cls *c = &classes[i];
		fprintf(o, "\t[%d] = { .name = \"%s\", .sigma_category = ", c->id, c->name);
		cstr(o, c->sigma_category);
		fprintf(o, ", .doc = ");
		cstr(o, c->doc);
		fprintf(o, ",\n\t       .id = %d, .fixed_size = %d, .nfields = %d, .fields = fields_%s,\n"
			   "\t       .nhuman = %d, .human = {",
			c->id, c->size, nhdr + c->nfields, c->name, c->nhuman);
		for (j = 0; j < c->nhuman; j++) {
			int k;
			for (k = 0; strcmp(c->f[k].name, c->human[j]); k++)
				;
			fprintf(o, "%s%d", j ? ", " : "", k + nhdr);
		}
		fprintf(o, "} },\n");
	}
	fprintf(o, "};\n\n");
	/* what rf_event_validate checks per class: the string fields only */
	for (i = 0; i < nclasses; i++) {
		struct cls *c = &classes[i];
		int n = 0;

		for (j = 0; j < c->nfields; j++)
			n += c->f[j].is_str && strcmp(c->f[j].source, "derived");
		if (!n)
			continue;
		fprintf(o, "static const struct rf_strcheck strs_%s[] = {", c->name);
		for (j = 0; j < c->nfields; j++)
			if (c->f[j].is_str && strcmp(c->f[j].source, "derived"))
				fprintf(o, " { %d, %d },", c->f[j].offset, c->f[j].max);
		fprintf(o, " };\n");
	}
	fprintf(o, "\nconst struct rf_strchecks rf_schema_strchecks_[RF_CLASS_COUNT] = {\n");
	for (i = 0; i < nclasses; i++) {
		struct cls *c = &classes[i];
		int n = 0;

		for (j = 0; j < c->nfields; j++)
			n += c->f[j].is_str && strcmp(c->f[j].source, "derived");
		if (n)
			fprintf(o, "\t[%d] = { %d, strs_%s },\n", c->id, n, c->name);
	}
	fprintf(o, "};\n");
	fclose(o);
}

static void emit_doc(const char *path)
{
	FILE *o = fopen(path, "w");
	int i, j;

	if (!o)
		die(NULL, "cannot write %s: %s", path, strerror(errno));
	fprintf(o, "# Event reference\n\n"
		   "Generated by `tools/schemagen` from `schema/events.yaml` (schema version %d, "
		   "layout hash `%016llx`). Do not edit: change the schema and run `make`.\n\n"
		   "Every event starts with a 48-byte header (`struct rf_event_hdr`): `size`, "
		   "`class_id`, `flags` (`RF_EVF_*`), `cpu`, then these fields, present in every "
		   "class:\n\n| JSON | Sigma | type | meaning |\n|---|---|---|---|\n",
		schema_version, (unsigned long long)hash);
	for (j = 0; j < nhdr; j++)
		fprintf(o, "| `%s` | %s | %s | %s |\n", hdr[j].json, hdr[j].sigma ? hdr[j].sigma : "",
			hdr[j].type, hdr[j].doc);
	fprintf(o, "\nString fields hold at most `max` bytes including the terminating NUL; a "
		   "value cut at its limit sets the `RF_EVF_TRUNCATED` flag (JSON `truncated`).\n"
		   "Source: `kernel` comes from the eBPF sensor, `enrich` from the user-space "
		   "process table, `derived` is computed when read.\n");
	for (i = 0; i < nclasses; i++) {
		struct cls *c = &classes[i];
		fprintf(o, "\n## `%s` (class %d)\n\n%s.", c->name, c->id, c->doc);
		if (c->sigma_category)
			fprintf(o, " Sigma logsource category: `%s`.", c->sigma_category);
		fprintf(o, "\n\n| JSON | Sigma | type | max | source | meaning |\n"
			   "|---|---|---|---|---|---|\n");
		for (j = 0; j < c->nfields; j++) {
			struct field *f = &c->f[j];
			char mx[16] = "";
			if (f->max)
				snprintf(mx, sizeof(mx), "%d", f->max);
			fprintf(o, "| `%s` | %s | %s | %s | %s | %s |\n", f->json,
				f->sigma ? f->sigma : "", f->type, mx, f->source, f->doc);
		}
	}
	fclose(o);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: schemagen SCHEMA.yaml OUT_HEADER OUT_TABLE_C OUT_DOC_MD\n");
		return 2;
	}
	schema_path = argv[1];
	parse(argv[1]);
	compute_hash();
	emit_header(argv[2]);
	emit_table(argv[3]);
	emit_doc(argv[4]);
	return 0;
}
