/* CPU and NUMA-node sets: "0-3,8,10-11" lists, as the kernel and libvirt write them. */
#ifndef HOOKD_CPUSET_H
#define HOOKD_CPUSET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* libvirt's limit for CPU and node ids in domain XML cpusets (src/conf/domain_conf.h,
 * VIR_DOMAIN_CPUMASK_LEN 16384; its tests pin to "0,16383"). */
#define CPUSET_MAX 16384
/* Enough for any list cpuset_format can print ("0,2,4,..." of CPUSET_MAX numbers). */
#define CPUSET_STRLEN (CPUSET_MAX * 5)

struct cpuset {
	uint64_t bits[CPUSET_MAX / 64];
};

void cpuset_clear(struct cpuset *s);
void cpuset_add(struct cpuset *s, unsigned cpu);
bool cpuset_has(const struct cpuset *s, unsigned cpu);
unsigned cpuset_count(const struct cpuset *s);
bool cpuset_empty(const struct cpuset *s);
/* Parses a list such as "0-3,^2,8" as libvirt's virBitmapParseInternal (src/util/virbitmap.c) does:
 * '^' excludes, blanks around numbers and separators and one trailing comma are allowed
 * (" 1 - 3 , ^2 ,5 ," is 1,3,5); -EINVAL or -ERANGE. */
int cpuset_parse(const char *str, struct cpuset *out);
/* Writes the canonical list form ("0-3,8") into buf; returns buf. */
char *cpuset_format(const struct cpuset *s, char *buf, size_t len);
/* Set algebra, in place on a. */
void cpuset_and(struct cpuset *a, const struct cpuset *b);
void cpuset_andnot(struct cpuset *a, const struct cpuset *b);
bool cpuset_equal(const struct cpuset *a, const struct cpuset *b);
bool cpuset_subset(const struct cpuset *a, const struct cpuset *b);
/* The lowest CPU in s, or CPUSET_MAX when s is empty. */
unsigned cpuset_first(const struct cpuset *s);
/* The canonical list form, allocated. */
char *cpuset_to_list(const struct cpuset *s);
/* The kernel's "%*pb" hex mask ("ff", "00000001,ffffffff"): parsed, and printed for nbits CPUs. */
int cpuset_parse_mask(const char *str, struct cpuset *out);
char *cpuset_to_mask(const struct cpuset *s, unsigned nbits);
/* Reads a CPU list file (e.g. /sys/devices/system/cpu/online) under root. */
int cpuset_read(const char *root, const char *abs, struct cpuset *out);
/* Prints the set as a JSON array of numbers: [0,1,2,3]. */
void cpuset_print_json(const struct cpuset *s, FILE *out);

#endif
