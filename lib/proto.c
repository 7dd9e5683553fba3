// SPDX-License-Identifier: MIT
/* proto.c: checks every control message (ringfence/proto.h) before anyone reads it. */
#include <errno.h>
#include <string.h>

#include "ringfence/event.h"
#include "ringfence/proto.h"

static const char *const type_names[RF_MSG_TYPE_END] = {
	[RF_MSG_HELLO] = "HELLO",	  [RF_MSG_WELCOME] = "WELCOME",
	[RF_MSG_ERROR] = "ERROR",	  [RF_MSG_OK] = "OK",
	[RF_MSG_SUBSCRIBE] = "SUBSCRIBE", [RF_MSG_MUTE] = "MUTE",
	[RF_MSG_INVERT] = "INVERT",	  [RF_MSG_STATS_REQ] = "STATS_REQ",
	[RF_MSG_STATS] = "STATS",	  [RF_MSG_STATUS_REQ] = "STATUS_REQ",
	[RF_MSG_STATUS] = "STATUS",	  [RF_MSG_VERDICT] = "VERDICT", [RF_MSG_NETRULE] = "NETRULE",
	[RF_MSG_HEARTBEAT] = "HEARTBEAT", [RF_MSG_AUTH_TEST] = "AUTH_TEST",
	[RF_MSG_AUTH_RESULT] = "AUTH_RESULT", [RF_MSG_RECENT_REQ] = "RECENT_REQ",
	[RF_MSG_RECENT] = "RECENT",	  [RF_MSG_CLEAR_CACHE] = "CLEAR_CACHE",
};

static const char *const error_names[RF_E_END] = {
	[RF_E_PROTO] = "RF_E_PROTO",
	[RF_E_ABI] = "RF_E_ABI",
	[RF_E_UNKNOWN_CLIENT] = "RF_E_UNKNOWN_CLIENT",
	[RF_E_IDENTITY] = "RF_E_IDENTITY",
	[RF_E_NOT_ENTITLED] = "RF_E_NOT_ENTITLED",
	[RF_E_LIMIT] = "RF_E_LIMIT",
	[RF_E_TOO_MANY] = "RF_E_TOO_MANY",
	[RF_E_STATE] = "RF_E_STATE",
	[RF_E_UNSUPPORTED] = "RF_E_UNSUPPORTED",
	[RF_E_INTERNAL] = "RF_E_INTERNAL",
};

const char *rf_proto_type_name(unsigned type)
{
	return type < RF_MSG_TYPE_END && type_names[type] ? type_names[type] : "?";
}

const char *rf_proto_error_name(int code)
{
	return code > 0 && code < RF_E_END ? error_names[code] : "?";
}

/* A NUL inside s[0..n) */
static int terminated(const char *s, size_t n)
{
	return memchr(s, 0, n) != NULL;
}

static int bad(const char **why, const char *reason)
{
	*why = reason;
	return -EBADMSG;
}

static int parse_mute(const unsigned char *buf, size_t n, struct rf_msg *out, const char **why)
{
	struct rf_msg_mute *m = &out->u.mute;
	const char *path;
	size_t plen;

	if (n < sizeof(*m))
		return bad(why, "MUTE shorter than its fixed part");
	memcpy(m, buf, sizeof(*m));
	if (m->reserved)
		return bad(why, "MUTE reserved field not 0");
	if (m->op < RF_MUTE_OP_ADD || m->op > RF_MUTE_OP_CLEAR)
		return bad(why, "MUTE op unknown");
	if (m->kind < RF_MUTE_PROCESS || m->kind > RF_MUTE_TARGET_PREFIX)
		return bad(why, "MUTE kind unknown");
	if (m->kind == RF_MUTE_PROCESS || m->op == RF_MUTE_OP_CLEAR) {
		if (m->path_len || n != sizeof(*m))
			return bad(why, "MUTE without a path carries path bytes");
		if (m->kind != RF_MUTE_PROCESS && (m->pid || m->start_ns))
			return bad(why, "MUTE of a path kind carries a pid");
		if (m->kind == RF_MUTE_PROCESS && m->op != RF_MUTE_OP_CLEAR && !m->pid)
			return bad(why, "MUTE of a process needs a pid");
		return 0;
	}
	if (m->pid || m->start_ns)
		return bad(why, "MUTE of a path kind carries a pid");
	plen = m->path_len;
	if (plen < 2 || plen > RF_PATH_MAX || n - sizeof(*m) != plen)
		return bad(why, "MUTE path length out of range or not the rest of the message");
	path = (const char *)buf + sizeof(*m);
	if (path[0] != '/')
		return bad(why, "MUTE path not absolute");
	if (path[plen - 1] != 0 || strlen(path) != plen - 1)
		return bad(why, "MUTE path not NUL-terminated or has a NUL inside");
	out->path = path;
	return 0;
}

static int parse_auth_test(const unsigned char *buf, size_t n, struct rf_msg *out,
			   const char **why)
{
	struct rf_msg_auth_test *t = &out->u.auth_test;
	const char *path;

	if (n < sizeof(*t))
		return bad(why, "AUTH_TEST shorter than its fixed part");
	memcpy(t, buf, sizeof(*t));
	if (t->class_id != RF_CLASS_AUTH_EXEC && t->class_id != RF_CLASS_AUTH_OPEN)
		return bad(why, "AUTH_TEST class neither auth_exec nor auth_open");
	if (t->path_len < 2 || t->path_len > RF_PATH_MAX || n - sizeof(*t) != t->path_len)
		return bad(why, "AUTH_TEST path length out of range or not the rest of the message");
	path = (const char *)buf + sizeof(*t);
	if (path[0] != '/')
		return bad(why, "AUTH_TEST path not absolute");
	if (path[t->path_len - 1] != 0 || strlen(path) != t->path_len - 1)
		return bad(why, "AUTH_TEST path not NUL-terminated or has a NUL inside");
	out->path = path;
	return 0;
}

static int parse_auth_result(const unsigned char *buf, size_t n, struct rf_msg *out,
			     const char **why)
{
	struct rf_msg_auth_result *r = &out->u.auth_result;

	if (n < sizeof(*r))
		return bad(why, "AUTH_RESULT shorter than its fixed part");
	memcpy(r, buf, sizeof(*r));
	if (r->verdict != RF_VERDICT_ALLOW && r->verdict != RF_VERDICT_DENY)
		return bad(why, "AUTH_RESULT verdict neither allow nor deny");
	if (r->nclients > RF_CLIENTS_MAX)
		return bad(why, "AUTH_RESULT more clients than RF_CLIENTS_MAX");
	if (r->entry_size != sizeof(struct rf_auth_result_entry))
		return bad(why, "AUTH_RESULT entry size wrong");
	if ((size_t)r->nclients * r->entry_size != n - sizeof(*r))
		return bad(why, "AUTH_RESULT entries not the rest of the message");
	out->entries = buf + sizeof(*r);
	return 0;
}

static int parse_status(const unsigned char *buf, size_t n, struct rf_msg *out,
			const char **why)
{
	struct rf_msg_status *s = &out->u.status;

	if (n < sizeof(*s))
		return bad(why, "STATUS shorter than its fixed part");
	memcpy(s, buf, sizeof(*s));
	if (!terminated(s->source, sizeof(s->source)))
		return bad(why, "STATUS source not NUL-terminated");
	if (s->nclients > RF_CLIENTS_MAX)
		return bad(why, "STATUS lists more than RF_CLIENTS_MAX clients");
	if (s->nclients && s->entry_size < sizeof(struct rf_status_client))
		return bad(why, "STATUS entry size smaller than struct rf_status_client");
	if (s->entry_size > 4096)
		return bad(why, "STATUS entry size out of range");
	if ((size_t)s->nclients * s->entry_size != n - sizeof(*s))
		return bad(why, "STATUS entries do not fill the message");
	out->entries = buf + sizeof(*s);
	return 0;
}

int rf_proto_parse(const void *vbuf, size_t n, struct rf_msg *out, const char **why)
{
	const unsigned char *buf = vbuf;
	const char *dummy;
	size_t fixed = 0;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!buf || !out)
		return bad(why, "no message");
	memset(out, 0, sizeof(*out));
	if (n < sizeof(struct rf_msg_hdr))
		return bad(why, "shorter than a message header");
	memcpy(&out->hdr, buf, sizeof(out->hdr));
	if (out->hdr.magic != RF_PROTO_MAGIC)
		return bad(why, "bad magic");
	if (out->hdr.size != n)
		return bad(why, "header size differs from the packet length");
	if (out->hdr.reserved)
		return bad(why, "header reserved field not 0");
	switch (out->hdr.type) {
	case RF_MSG_OK:
	case RF_MSG_STATS_REQ:
	case RF_MSG_STATUS_REQ:
	case RF_MSG_HEARTBEAT:
	case RF_MSG_RECENT_REQ:
	case RF_MSG_CLEAR_CACHE:
		fixed = sizeof(struct rf_msg_hdr);
		break;
	case RF_MSG_RECENT:
		fixed = sizeof(struct rf_msg_recent);
		break;
	case RF_MSG_HELLO:
		fixed = sizeof(struct rf_msg_hello);
		break;
	case RF_MSG_WELCOME:
		fixed = sizeof(struct rf_msg_welcome);
		break;
	case RF_MSG_ERROR:
		fixed = sizeof(struct rf_msg_error);
		break;
	case RF_MSG_SUBSCRIBE:
		fixed = sizeof(struct rf_msg_subscribe);
		break;
	case RF_MSG_INVERT:
		fixed = sizeof(struct rf_msg_invert);
		break;
	case RF_MSG_STATS:
		fixed = sizeof(struct rf_msg_stats);
		break;
	case RF_MSG_MUTE:
		return parse_mute(buf, n, out, why);
	case RF_MSG_STATUS:
		return parse_status(buf, n, out, why);
	case RF_MSG_VERDICT:
		fixed = sizeof(struct rf_msg_verdict);
		break;
	case RF_MSG_NETRULE:
		fixed = sizeof(struct rf_msg_netrule);
		break;
	case RF_MSG_AUTH_TEST:
		return parse_auth_test(buf, n, out, why);
	case RF_MSG_AUTH_RESULT:
		return parse_auth_result(buf, n, out, why);
	default:
		return bad(why, "unknown message type");
	}
	if (n != fixed)
		return bad(why, "message size wrong for its type");
	memcpy(&out->u, buf, fixed);
	switch (out->hdr.type) {
	case RF_MSG_HELLO:
		if (!terminated(out->u.hello.name, sizeof(out->u.hello.name)) || !out->u.hello.name[0])
			return bad(why, "HELLO name empty or not NUL-terminated");
		break;
	case RF_MSG_WELCOME:
		if (out->u.welcome.cpu_plus_one > RF_CPU_MAX)
			return bad(why, "WELCOME cpu beyond RF_CPU_MAX");
		break;
	case RF_MSG_ERROR:
		if (out->u.error.code <= 0 || out->u.error.code >= RF_E_END || out->u.error.reserved)
			return bad(why, "ERROR code unknown");
		if (!terminated(out->u.error.msg, sizeof(out->u.error.msg)))
			return bad(why, "ERROR message not NUL-terminated");
		break;
	case RF_MSG_SUBSCRIBE:
		if (out->u.subscribe.reserved)
			return bad(why, "SUBSCRIBE reserved field not 0");
		if (out->u.subscribe.modes & ~RF_SUB_ALL)
			return bad(why, "SUBSCRIBE unknown mode bits");
		if (out->u.subscribe.classes & 1)
			return bad(why, "SUBSCRIBE class 0 does not exist");
		break;
	case RF_MSG_INVERT:
		if (out->u.invert.reserved || out->u.invert.on > 1)
			return bad(why, "INVERT reserved field not 0 or on not 0/1");
		if (out->u.invert.set < RF_MUTESET_PROCESS || out->u.invert.set > RF_MUTESET_TARGET)
			return bad(why, "INVERT set unknown");
		break;
	case RF_MSG_STATS:
		if (out->u.stats.nclasses > RF_CLASSES_MAX || out->u.stats.reserved)
			return bad(why, "STATS class count out of range");
		break;
	case RF_MSG_RECENT:
		if (out->u.recent.reserved)
			return bad(why, "RECENT reserved field not 0");
		break;
	case RF_MSG_VERDICT:
		if (out->u.verdict.verdict != RF_VERDICT_ALLOW && out->u.verdict.verdict != RF_VERDICT_DENY)
			return bad(why, "VERDICT neither allow nor deny");
		if (out->u.verdict.flags & ~RF_VERDICT_F_CACHE)
			return bad(why, "VERDICT unknown flag bits");
		if (!out->u.verdict.request_id)
			return bad(why, "VERDICT request id 0");
		break;
	case RF_MSG_NETRULE: {
		const struct rf_msg_netrule *r = &out->u.netrule;
		static const uint8_t zero[16];

		if (r->reserved0 || r->reserved1 || r->reserved2)
			return bad(why, "NETRULE reserved field not 0");
		if (r->op == RF_NETRULE_CLEAR) {
			if (r->family || r->prefix || r->protocol || r->direction || r->port ||
			    memcmp(r->addr, zero, 16))
				return bad(why, "NETRULE clear with a rule");
			break;
		}
		if (r->op != RF_NETRULE_ADD)
			return bad(why, "NETRULE op unknown");
		if (r->family != 2 && r->family != 10)
			return bad(why, "NETRULE family neither IPv4 (2) nor IPv6 (10)");
		if (r->prefix > (r->family == 2 ? 32 : 128))
			return bad(why, "NETRULE prefix longer than the address");
		if (r->family == 2 && memcmp(r->addr + 4, zero, 12))
			return bad(why, "NETRULE IPv4 address longer than 4 bytes");
		if (r->protocol != 0 && r->protocol != 6 && r->protocol != 17)
			return bad(why, "NETRULE protocol not 0, 6 or 17");
		if (!r->direction || (r->direction & ~(RF_NETRULE_CONNECT | RF_NETRULE_BIND)))
			return bad(why, "NETRULE direction not connect and/or bind");
		for (unsigned i = 0; i < 16; i++) {
			unsigned bits = r->prefix > i * 8 ? r->prefix - i * 8 : 0;
			uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
			if (!bits)
				mask = 0;
			if (r->addr[i] & ~mask)
				return bad(why, "NETRULE address has bits set past the prefix");
		}
		break;
	}
	}
	return 0;
}
