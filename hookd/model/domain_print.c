/* The domain model printed: the exact `inspect --json` object, and a summary for people. */
#include "domain.h"

#include <string.h>

static void json_lists(const struct domain *d, FILE *out)
{
	char a[PCIADDR_STRLEN];

	fputs("\"hostdevs\":[", out);
	for (size_t i = 0; i < d->n_hostdevs; i++)
		fprintf(out, "%s{\"address\":\"%s\",\"managed\":%s}", i ? "," : "",
			pciaddr_format(&d->hostdevs[i].address, a), d->hostdevs[i].managed ? "true" : "false");
	fputs("],\"vcpupin\":[", out);
	for (size_t i = 0; i < d->n_vcpupins; i++) {
		fprintf(out, "%s{\"vcpu\":%u,\"cpus\":", i ? "," : "", d->vcpupins[i].vcpu);
		cpuset_print_json(&d->vcpupins[i].cpus, out);
		fputc('}', out);
	}
	fputs("],\"emulatorpin\":", out);
	if (d->has_emulatorpin)
		cpuset_print_json(&d->emulatorpin, out);
	else
		fputs("null", out);
	fputs(",\"hugepages\":[", out);
	for (size_t i = 0; i < d->n_hugepages; i++) {
		const struct domain_hugepage *h = &d->hugepages[i];

		fputs(i ? ",{\"size_kib\":" : "{\"size_kib\":", out);
		if (h->has_size)
			fprintf(out, "%llu", h->size_kib);
		else
			fputs("null", out);
		fputs(",\"nodes\":", out);
		cpuset_print_json(&h->nodes, out);
		fputc('}', out);
	}
	fputc(']', out);
}

void domain_print_json(const struct domain *d, FILE *out)
{
	fputs("{\"name\":", out);
	json_string(out, d->name);
	fputs(",\"uuid\":", out);
	if (d->uuid)
		json_string(out, d->uuid);
	else
		fputs("null", out);
	if (d->has_vcpus)
		fprintf(out, ",\"vcpus\":%u", d->vcpus);
	else
		fputs(",\"vcpus\":null", out);
	if (d->has_memory)
		fprintf(out, ",\"memory_kib\":%llu,", d->memory_kib);
	else
		fputs(",\"memory_kib\":null,", out);
	json_lists(d, out);
	fputs(",\"numatune_nodes\":", out);
	if (d->has_numatune)
		cpuset_print_json(&d->numatune_nodes, out);
	else
		fputs("null", out);
	fputs("}\n", out);
}

void domain_print_text(const struct domain *d, FILE *out)
{
	char a[PCIADDR_STRLEN], *buf = xmalloc(CPUSET_STRLEN);

	fprintf(out, "name:        %s\n", d->name);
	fprintf(out, "uuid:        %s\n", d->uuid ? d->uuid : "-");
	if (d->has_vcpus)
		fprintf(out, "vcpus:       %u\n", d->vcpus);
	if (d->has_memory)
		fprintf(out, "memory:      %llu KiB\n", d->memory_kib);
	fprintf(out, "hostdevs:   %s", d->n_hostdevs ? "" : " none");
	for (size_t i = 0; i < d->n_hostdevs; i++)
		fprintf(out, " %s%s", pciaddr_format(&d->hostdevs[i].address, a),
			d->hostdevs[i].managed ? " (managed)" : "");
	fputc('\n', out);
	for (size_t i = 0; i < d->n_vcpupins; i++)
		fprintf(out, "vcpupin:     vcpu %u on CPUs %s\n", d->vcpupins[i].vcpu,
			cpuset_format(&d->vcpupins[i].cpus, buf, CPUSET_STRLEN));
	if (d->has_emulatorpin)
		fprintf(out, "emulatorpin: CPUs %s\n", cpuset_format(&d->emulatorpin, buf, CPUSET_STRLEN));
	for (size_t i = 0; i < d->n_hugepages; i++) {
		const struct domain_hugepage *h = &d->hugepages[i];

		if (h->has_size)
			fprintf(out, "hugepages:   %llu KiB pages", h->size_kib);
		else
			fputs("hugepages:   default size", out);
		if (!cpuset_empty(&h->nodes))
			fprintf(out, " on nodes %s", cpuset_format(&h->nodes, buf, CPUSET_STRLEN));
		fputc('\n', out);
	}
	if (d->has_numatune)
		fprintf(out, "numatune:    nodes %s\n", cpuset_format(&d->numatune_nodes, buf, CPUSET_STRLEN));
	free(buf);
}
