/* SPDX-License-Identifier: MIT */
/*
 * incident.h: incidents of supervised clients that the kernel refuses without
 * killing them (docs/supervisor.md, "Incidents"): Landlock denials, read from the
 * kernel's audit log (NETLINK_AUDIT read-only multicast, Landlock audit of kernels
 * 6.15+), descriptor-limit hits (sampled), and control-protocol abuse.
 */
#ifndef RF_INCIDENT_H
#define RF_INCIDENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RF_AUDIT_LANDLOCK_ACCESS 1423 /* linux/audit.h of 6.15+: a Landlock denial */
#define RF_AUDIT_LANDLOCK_DOMAIN 1424 /* ... a Landlock domain allocated/deallocated */
#define RF_AUDIT_SYSCALL 1300

/* What one audit record says, as far as incidents need it. Strings are
 * NUL-terminated copies, cut at their buffer size. */
struct rf_audit_rec {
	uint64_t serial;     /* audit(SECONDS.MS:SERIAL) */
	uint64_t domain;     /* domain=HEX (0: none) */
	long pid;            /* pid=N (0: none) */
	char status[16];     /* status= of a domain record: allocated, deallocated */
	char blockers[96];   /* blockers= of an access record */
	char path[256];      /* path= (quoted or hex-encoded) decoded; "" when none */
};

/* Parse the text of one audit record (LEN bytes, not necessarily NUL-terminated).
 * Returns 0, or -EBADMSG when it lacks the audit(...) stamp. Never reads past LEN. */
int rf_audit_parse(const char *text, size_t len, struct rf_audit_rec *r);

struct rf_supervisor;

/* Open the audit multicast socket (needs CAP_AUDIT_READ); the fd goes into the
 * daemon's epoll set. Returns the fd or -errno (then denials are not reported: the
 * caller logs it). */
int rf_sup_audit_open(struct rf_supervisor *s);
/* Read what is pending on the audit socket and report denials of our clients. */
void rf_sup_audit_read(struct rf_supervisor *s);
/* The epoll set of the clients' seccomp listeners (-1: none), and what to do when it
 * is readable: report opens outside each client's sandbox, then let the kernel
 * decide. */
int rf_sup_notify_fd(const struct rf_supervisor *s);
void rf_sup_notify_read(struct rf_supervisor *s);
/* Sample every running client's open descriptors against its limit (once a second). */
void rf_sup_sample_fds(struct rf_supervisor *s);
/* Report an incident of the supervised client with process id PID (nothing when
 * PID is not one of ours). Logged (at most RF_SUP_INCIDENT_LOG_MAX a minute per
 * client; the rest counted) and counted in `ringfence status`. */
void rf_sup_incident(struct rf_supervisor *s, pid_t pid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
