/* SPDX-License-Identifier: MIT */
/*
 * attest_glue.h: what the daemon measures into its attestation log (src/attest/,
 * docs/attest.md) and when. One context per daemon, set by rf_dattest_start(); every
 * other call is a no-op without it. Measurements happen at load and activation time
 * (start, SIGHUP, client start, content rollback and mark-good), never per event: in
 * TPM mode each costs one TPM round trip (about 1 ms with swtpm on loopback).
 */
#ifndef RF_ATTEST_GLUE_H
#define RF_ATTEST_GLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rf_attest;
struct rf_manifest;

/* Open the log in STATE (TCTI: NULL default, "none" software-only), measure the
 * daemon binary (/proc/self/exe), its options (ARGV) and the manifests in CONFIG. */
int rf_dattest_start(const char *tcti, const char *state, int argc, char **argv,
		     const char *config);
void rf_dattest_stop(void);
struct rf_attest *rf_dattest_get(void);
/* The manifests CONFIG/clients.d/\*.conf (each whose bytes changed). */
void rf_dattest_manifests(const char *config);
/* A BPF object as loaded: "sensor" or "netpolicy" (the ELF bytes built into the binary). */
void rf_dattest_bpf(const char *which);
/* A supervised client just exec'd as PID: /proc/PID/exe (the inode that runs), or EXE
 * when the process is already gone. Only when the bytes changed since its last start. */
void rf_dattest_client(const char *name, pid_t pid, const char *exe);
/* Content: TYPE RF_AT_CONTENT (client started on it), RF_AT_CONTENT_ROLLBACK,
 * RF_AT_CONTENT_GOOD; M's store or stand-in directory. */
void rf_dattest_content(int type, const struct rf_manifest *m);
/* For the fleet agent's report (its rf_fleet_attest_hook has this signature): base64 of
 * a quote over the controller's nonce, malloc'ed in *b64. -ENODATA without a nonce (the
 * first report), -ENODEV when attestation is off; other failures are logged here. */
int rf_dattest_fleet_quote(const uint8_t *nonce, size_t nlen, char **b64);

#endif
