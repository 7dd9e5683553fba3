/* SPDX-License-Identifier: MIT */
/*
 * ringfence/limits.h: every hard limit of the platform, in one place.
 *
 * Every value that input can influence (an event from the kernel, a capture file,
 * a client message, a content bundle, a rule) is checked against one of these.
 * Included by the eBPF programs too, so keep it to plain #defines.
 */
#ifndef RINGFENCE_LIMITS_H
#define RINGFENCE_LIMITS_H

/* Events */
#define RF_EVENT_MAX         32768u  /* bytes in one event, header and strings included */
#define RF_PATH_MAX          4096u   /* bytes of a path field, NUL included (PATH_MAX) */
#define RF_ARGV_MAX          4096u   /* bytes of argv kept, NULs included; more sets args_truncated */
#define RF_PATH_DEPTH_MAX    64u     /* path components the eBPF sensor walks; deeper is flagged partial */
#define RF_STR_FIELDS_MAX    32u     /* string fields in one event class */
#define RF_FIELDS_MAX        64u     /* fields in one event class */
#define RF_CLASSES_MAX       64u     /* event classes (class ids are 1..RF_CLASSES_MAX-1) */

/* Sensor */
#define RF_RINGBUF_BYTES     (16u << 20) /* kernel -> user ring buffer */
#define RF_PROC_TABLE_MAX    65536u  /* live + recently exited processes in the process table */
#define RF_PROC_EXITED_TTL_NS (5ull * 1000000000ull) /* how long an exited process stays for late lookups */
#define RF_USER_CACHE_MAX    1024u   /* uid -> name entries cached */
#define RF_EXCLUDED_PIDS_MAX 256u    /* ringfence's own processes excluded in the kernel */
#define RF_SENSOR_PROGS_MAX  160u    /* programs in the sensor's BPF object */
#define RF_SENSOR_NAP_PER_MS 200u       /* records within 1 ms (200,000/s): the reader naps and polls instead of being woken */
#define RF_SENSOR_NAP_US     50u     /* ... for this long (the most a record then waits) */
#define RF_STASH_MAX         16384u  /* syscalls in flight between sys_enter and sys_exit */
#define RF_PATH_EXCL_MAX     8u      /* path-prefix exclusions for file events */
#define RF_PATH_EXCL_LEN     64u     /* bytes of one path-prefix exclusion */

/* Capture files */
#define RF_CAPTURE_HEADER_MAX 4096u  /* bytes in a capture file header */

/* Detection rules (src/detect: Sigma loader, compiler, matcher, correlations) */
#define RF_RULE_FILE_MAX      (1u << 20) /* bytes in one rule file */
#define RF_RULE_FILES_MAX     65536u  /* rule files loaded from all directories */
#define RF_RULE_DIR_DEPTH_MAX 8u      /* subdirectory levels walked below a rules directory */
#define RF_RULES_MAX          65536u  /* rules (documents) in one engine */
#define RF_RULE_YAML_NODES_MAX 100000u /* YAML nodes visited while reading one document (aliases count each time) */
#define RF_RULE_VALUES_MAX    4096u   /* values under one field of one selection */
#define RF_RULE_IDENTS_MAX    256u    /* search identifiers in one detection */
#define RF_RULE_VALUE_MAX     4096u   /* bytes of one value (after base64 and escapes) */
#define RF_RULE_COND_MAX      4096u   /* bytes of one condition */
#define RF_RULE_DEPTH_MAX     64u     /* nesting of a condition (parentheses, not) */
#define RF_RULE_NODES_MAX     100000u /* condition nodes in one rule, selections expanded */
#define RF_DETECT_ATOMS_MAX   (1u << 20) /* distinct field tests over all rules */
#define RF_CORR_RULES_MAX     64u     /* rules referenced by one correlation */
#define RF_CORR_GROUPBY_MAX   8u      /* group-by fields of one correlation */
#define RF_CORR_GROUPS_MAX    4096u   /* live groups per correlation; more are dropped and counted */
#define RF_CORR_EVENTS_MAX    1024u   /* timestamps or values kept per group (thresholds above are refused) */
#define RF_CORR_KEY_MAX       1024u   /* bytes of one group key (group-by values joined) */
#define RF_RE_FACTORS_MAX     8u      /* required literals kept for one regular expression's prefilter (more: no prefilter) */
#define RF_RE_FACTOR_LEN      32u     /* bytes of one such literal, NUL included (longer: cut at a shorter run) */

/* Content bundles (src/content, docs/content.md) */
#define RF_BUNDLE_MAX        (64u << 20) /* bytes in one bundle file */
#define RF_META_MAX          (256u << 10) /* bytes of the metadata section of a bundle or a metadata file */
#define RF_META_KEYS_MAX     16u     /* keys listed for one role */
#define RF_META_SIGS_MAX     16u     /* signatures on one metadata document */
#define RF_ROOT_CHAIN_MAX    8u      /* root versions a bundle may carry for rotation */
#define RF_TLV_DEPTH_MAX     3u      /* nesting of TLV streams (section > envelope > body) */
#define RF_CONTENT_TYPE_MAX  16u     /* bytes of a content type name, NUL included */
#define RF_CONTENT_CLIENT_MAX 32u    /* bytes of a client name, NUL included */
#define RF_ARCHIVE_ENTRIES_MAX 65536u /* files and directories in one payload */
#define RF_ARCHIVE_NAME_MAX  1024u   /* bytes of an archive path, NUL excluded */
#define RF_ARCHIVE_COMPONENT_MAX 255u /* bytes of one path component */
#define RF_ARCHIVE_DEPTH_MAX 16u     /* components in an archive path */
#define RF_FIELDMAP_LINE_MAX 4096u   /* bytes of one fieldmap line */
#define RF_FIELDMAP_FILE_MAX (1u << 20) /* bytes of a fieldmap file */
#define RF_FIELDMAP_FIELDS_MAX 64u   /* field references in one template */
#define RF_CONTENT_VALIDATE_TIMEOUT_MS 10000u /* wall clock for the sandboxed validator */
#define RF_CONTENT_VALIDATE_CPU_S 10u /* CPU seconds for the sandboxed validator */
#define RF_CONTENT_VALIDATE_AS   (1ull << 30) /* address space of the validator (not under ASan) */
#define RF_CONTENT_SHADOW_CPU_S  5u  /* default CPU budget of a shadow run */
#define RF_CONTENT_SHADOW_TIMEOUT_MS 10000u /* default wall clock of a shadow run */
#define RF_CONTENT_SHADOW_REALTIME_PCT 100u /* keep up: wall clock at most this % of the
					     * replayed events' time span ... */
#define RF_CONTENT_SHADOW_START_MS 1000u    /* ... plus this for start-up */
#define RF_CONTENT_ATTEMPTS_MAX  3u  /* starts under an attempting marker before rollback */

/* Broker: daemon <-> clients (ring.h, proto.h, ringfence.h) */
#define RF_CLIENTS_MAX       64u     /* clients connected at once (status lists them all) */
#define RF_CLIENT_NAME_MAX   64u     /* bytes of a client name, NUL included */
#define RF_MANIFESTS_MAX     256u    /* client manifests read from the config directory */
#define RF_MANIFEST_BYTES_MAX 16384u /* bytes of one manifest file */
#define RF_RING_MIN          (64u << 10)  /* smallest ring data area (power of two) */
#define RF_RING_MAX          (256u << 20) /* largest ring data area (power of two) */
#define RF_RING_DEFAULT      (4u << 20)   /* ring data area when the manifest names none */
#define RF_MUTE_MAX          1024u   /* mute entries of one kind per client */
#define RF_CTL_MSG_MAX       8192u   /* bytes of one control message from a client */
#define RF_CTL_PENDING_MAX   16u     /* control connections not yet identified (HELLO) */
#define RF_CTL_HELLO_TIMEOUT_S 5u    /* seconds an unidentified connection may stay open */
#define RF_CTL_REPLY_TIMEOUT_S 5u    /* seconds libringfence waits for the daemon to answer a request */
#define RF_REPLAY_EVENTS_MAX (1u << 22) /* events a replay source keeps in memory */

/* AUTH: fanotify permission requests (src/daemon/auth.c, docs/auth.md) */
#define RF_AUTH_PENDING_MAX  4096u   /* requests waiting for verdicts; more get the default at once */
#define RF_AUTH_MARKS_MAX    16u     /* --auth-mount mount points */
#define RF_AUTH_FAILCLOSED_MAX 16u   /* --auth-fail-closed path prefixes */
#define RF_AUTH_DEADLINE_MIN_MS 1u   /* shortest configurable deadline */
#define RF_AUTH_DEADLINE_MAX_MS 5000u /* longest configurable deadline */
#define RF_AUTH_DEADLINE_EXEC_MS 200u /* default deadline of auth_exec (docs/auth.md says why) */
#define RF_AUTH_DEADLINE_OPEN_MS 100u /* default deadline of auth_open */
#define RF_AUTH_MISS_LIMIT   3u      /* default: consecutive misses before the miss policy acts */
#define RF_AUTH_CACHE_MAX    8192u   /* verdict cache entries (direct-mapped, power of two) */
#define RF_AUTH_CACHE_RACY_NS 50000000ull /* files changed this recently are not cached (coarse ctime) */
#define RF_AUTH_READ_BATCH   64u     /* fanotify events read per wakeup */
#define RF_AUTH_EXEC_GRANTS_MAX 64u  /* allowed execs remembered for their open (by pid; power of two) */
#define RF_AUTH_EXEC_GRANT_NS 50000000ull /* ... for at most this long */
#define RF_AUTH_KMARKS_MAX   4096u   /* kernel-level verdict cache: fanotify ignore marks added
				      * since the last flush; at the bound all are flushed and
				      * the cache starts over (docs/auth.md) */
#define RF_AUTH_RT_RING      4096u   /* daemon-side round trips remembered per kind (status) */

/* Network deny rules (bpf/netpolicy.bpf.c, src/daemon/netpolicy.c) */
#define RF_NETRULES_MAX      256u    /* rules in the kernel, all clients together */
#define RF_NETRULES_CLIENT_MAX 64u   /* rules of one client */
#define RF_NETRULE_PREFIX_MIN_V4 8u  /* a rule without a port covers at most a /8 ... */
#define RF_NETRULE_PREFIX_MIN_V6 16u /* ... or an IPv6 /16: no rule blocks everything */

/* Supervisor: clients the daemon starts (src/daemon/supervisor.c, docs/supervisor.md) */
#define RF_SUP_ARGS_MAX      1024u   /* bytes of a manifest's `args` */
#define RF_SUP_ARGV_MAX      32u     /* arguments after splitting `args` */
#define RF_SUP_SYSCALLS_MAX  1024u   /* bytes of a manifest's extra `syscalls` list */
#define RF_SUP_MEM_DEFAULT   (512ull << 20) /* RLIMIT_AS and memory.max of a client */
#define RF_SUP_NOFILE_DEFAULT 64u    /* RLIMIT_NOFILE of a client */
#define RF_SUP_NPROC_DEFAULT 8u      /* RLIMIT_NPROC of a client (per user) */
#define RF_SUP_CPU_DEFAULT   100u    /* cpu.max of a client, percent of one CPU */
#define RF_SUP_STALL_DEFAULT_S 5u    /* no progress while events are pending: killed */
#define RF_SUP_BACKOFF_MIN_MS 100u   /* first restart delay; doubles per crash */
#define RF_SUP_BACKOFF_MAX_MS 30000u /* restart delay ceiling */
#define RF_SUP_LOOP_CRASHES  3u      /* crashes within RF_SUP_LOOP_WINDOW_S: a crash loop */
#define RF_SUP_LOOP_WINDOW_S 60u
#define RF_SUP_HEALTHY_S     5u      /* running healthy this long: content marked good, backoff reset */
#define RF_SUP_START_TIMEOUT_S 10u   /* started but not subscribed after this: killed */
#define RF_SUP_KILL_GRACE_MS 1000u   /* SIGTERM to SIGKILL */
#define RF_SAFE_MODE_STARTS  3u      /* daemon starts in a row without reaching healthy: safe mode */
#define RF_DAEMON_HEALTHY_S  10u     /* daemon up this long with no client crash: healthy */
#define RF_SUP_INCIDENT_LOG_MAX 10u  /* incidents logged per client per minute (all counted) */
#define RF_SUP_LANDLOCK_DOMAINS 64u  /* Landlock domains of clients remembered (audit) */
#define RF_SUP_AUDIT_PENDING 16u     /* denials waiting for their domain's owner (audit) */

/* Attestation (src/attest/, docs/attest.md) */
#define RF_ATTEST_PCR        23u     /* the PCR the measurements go into (resettable, debug) */
#define RF_ATTEST_LOG_MAX    1024u   /* entries in a measurement log */
#define RF_ATTEST_NAME_MAX   64u     /* bytes of a component name (with NUL) */
#define RF_ATTEST_DETAIL_MAX 640u    /* bytes of an entry's detail (with NUL) */
#define RF_ATTEST_NONCE_MIN  8u      /* nonce bytes */
#define RF_ATTEST_NONCE_MAX  32u
#define RF_ATTEST_QUOTE_MAX  (256u << 10) /* bytes of a quote file */
#define RF_ATTEST_POLICY_MAX (256u << 10) /* bytes of a policy file */
#define RF_ATTEST_RULES_MAX  512u    /* allow/require/key lines of a policy */
#define RF_ATTEST_RULE_VALUES_MAX 32u /* hashes or signer keys on one allow line */
#define RF_ATTEST_SIGNERS_MAX 8u     /* signer keys recorded for one content entry */
#define RF_ATTEST_FILE_MAX   (512ull << 20) /* a measured file larger than this is refused */

/* Recent-events recording: the last N seconds the daemon saw, for the content
 * pipeline's shadow run (src/daemon/recent.c, docs/content.md) */
#define RF_RECENT_SECONDS_DEFAULT 30u            /* window kept by default */
#define RF_RECENT_BYTES_DEFAULT   (16ull << 20)  /* memory bound of the window */
#define RF_RECENT_BYTES_MIN       (1ull << 20)
#define RF_RECENT_BYTES_MAX       (1ull << 30)
#define RF_RECENT_CHUNK           (1u << 20)     /* recording is kept in chunks of this size */

/* Fleet rollout (docs/fleet.md; controller src/fleet/, agent src/daemon/fleet_agent.c) */
#define RF_FLEET_REPORT_MAX  (16u << 10) /* bytes of a /v1/report body without attestation */
#define RF_FLEET_REPORT_ATTEST_MAX (64u << 10) /* ... with an attestation */
#define RF_FLEET_RESPONSE_MAX (4u << 10) /* bytes of a controller response */
#define RF_FLEET_HOST_MAX    64u     /* bytes of a host id ([A-Za-z0-9._:-]) */
#define RF_FLEET_CLIENTS_MAX 8u      /* clients in one report, content tracks in the controller */
#define RF_FLEET_ERROR_MAX   512u    /* bytes of a client's error string in a report */
#define RF_FLEET_JSON_DEPTH  8u      /* nesting of a report's JSON */
#define RF_FLEET_JSON_TOKENS 512u    /* JSON values in one report */
#define RF_FLEET_EARLY_MIN_S 5u      /* an early report (after an install or crash) at most this often */
#define RF_FLEET_BACKOFF_MAX_S 600u  /* agent's error backoff ceiling */
#define RF_FLEET_HOSTS_MAX   (4u << 20) /* endpoints one controller keeps in memory */
#define RF_FLEET_PINS_MAX    65536u  /* operator overrides and pins */
#define RF_FLEET_RINGS       4u      /* canary, early, broad, holdback (control of broad) */
/* ... the endpoint agent only (src/daemon/fleet_agent.c, fleet_proto.c) */
#define RF_FLEET_JSON_DEPTH_MAX    8u      /* nesting of a controller response (objects, arrays) */
#define RF_FLEET_ASSIGN_MAX        16u     /* assignments in one response */
#define RF_FLEET_PATH_MAX          256u    /* bytes of a repository path, NUL included */
#define RF_FLEET_RING_MAX          32u     /* bytes of a ring name, NUL included */
#define RF_FLEET_NONCE_MAX         129u    /* hex digits of a nonce, NUL included */
#define RF_FLEET_URL_MAX           1024u   /* bytes of a controller or repository URL */
#define RF_FLEET_POLL_MAX_S        86400u  /* longest poll interval a response may ask for */
#define RF_FLEET_POLL_DEFAULT_S    60u     /* --fleet-poll default */
#define RF_FLEET_HTTP_TIMEOUT_MS   10000u  /* one report round trip */
#define RF_FLEET_DOWNLOAD_TIMEOUT_MS 120000u /* one bundle download */
#define RF_FLEET_INSTALL_TIMEOUT_S 120u    /* an install child running longer is killed */
#define RF_FLEET_SEQ_SKIP          1000u   /* report seq skipped ahead at start and after a 409 */

/* Broker fan-out (src/daemon/broker.c) */
#define RF_BROKER_STAGE_BYTES (128u << 10) /* events staged per batch before the fan-out (>= RF_EVENT_MAX) */
#define RF_SCHED_SLICE_NS    100000u /* daemon --sched slice: the shortest slice Linux allows (EEVDF) */
#define RF_CLIENT_SPIN_MAX_US 1000u  /* rf_client_opts.spin_us at most */
#define RF_CLIENT_SLICE_NS   100000u /* RF_CLIENT_SHORT_SLICE: the shortest slice Linux allows */
#define RF_CPU_MAX           1024u   /* daemon --cpu N: N below this (glibc's CPU_SETSIZE) */
#define RF_LAT_TRACE_MAX     1000000u /* events the daemon's --latency-trace keeps */

#endif /* RINGFENCE_LIMITS_H */
