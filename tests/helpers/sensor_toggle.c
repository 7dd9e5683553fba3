// SPDX-License-Identifier: MIT
/* sensor_toggle DIR: subscribes and unsubscribes file_create at run time on one live
 * sensor and prints, per phase, how many creations in DIR were delivered, how many
 * file_create events the kernel emitted at all (in-kernel filtering), and the id of
 * the open program (unchanged: nothing is reloaded). */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "ringfence/schema.h"
#include "sensor/sensor_int.h"
#include "sensor_bpf.h"
#include "sensor.skel.h"

static const char *dir;
static int hits;

static int on_event(const struct rf_event_hdr *ev, void *ctx)
{
	const char *p;
	size_t len;

	if (ev->class_id == RF_CLASS_FILE_CREATE &&
	    rf_event_str(ev, rf_schema_field(RF_CLASS_FILE_CREATE, "path"), &p, &len) == 0 &&
	    !strncmp(p, dir, strlen(dir)))
		hits++;
	return 0;
}

static unsigned long long emitted(struct rf_sensor *s)
{
	int n = libbpf_num_possible_cpus(), fd = bpf_map__fd(s->skel->maps.rf_stats);
	struct rf_cpu_stats *v = calloc((size_t)n, sizeof(*v));
	unsigned long long sum = 0;
	__u32 key = 0;

	if (v && bpf_map_lookup_elem(fd, &key, v) == 0)
		for (int c = 0; c < n; c++)
			sum += v[c].emitted[RF_CLASS_FILE_CREATE];
	free(v);
	return sum;
}

static unsigned prog_id(struct rf_sensor *s)
{
	struct bpf_prog_info info = {0};
	__u32 len = sizeof(info);

	/* the plain-load variant where the kernel has bpf_rdonly_cast (bpf/file.bpf.h) */
	bpf_obj_get_info_by_fd(bpf_program__fd(s->btf_walk ? s->skel->progs.rfb_exit_openat
							  : s->skel->progs.rf_exit_openat),
			       &info, &len);
	return info.id;
}

static void phase(struct rf_sensor *s, const char *name, int files)
{
	unsigned long long e0 = emitted(s);
	char path[4096];

	hits = 0;
	if (fork() == 0) { /* a child: the sensor never reports its own process */
		for (int i = 0; i < files; i++) {
			snprintf(path, sizeof(path), "%s/%s-%d", dir, name, i);
			close(open(path, O_CREAT | O_WRONLY, 0644));
		}
		_exit(0);
	}
	wait(NULL);
	for (int i = 0; i < 5; i++)
		rf_sensor_poll(s, 100);
	printf("%s delivered=%d emitted=%llu prog=%u\n", name, hits, emitted(s) - e0, prog_id(s));
}

int main(int argc, char **argv)
{
	struct rf_sensor_opts o = {.class_mask = 1ull << RF_CLASS_PROCESS_EXEC};
	struct rf_sensor *s;
	char why[512];

	if (argc != 2)
		return 2;
	dir = argv[1];
	if (rf_sensor_open(&o, on_event, NULL, &s, why, sizeof(why)) < 0 || rf_sensor_degraded(s)) {
		fprintf(stderr, "sensor: %s\n", rf_sensor_degraded(s) ? rf_sensor_degraded(s) : why);
		return 1;
	}
	phase(s, "off", 10);
	rf_sensor_set_classes(s, o.class_mask | (1ull << RF_CLASS_FILE_CREATE));
	phase(s, "on", 10);
	rf_sensor_set_classes(s, o.class_mask);
	phase(s, "off-again", 10);
	rf_sensor_free(s);
	return 0;
}
