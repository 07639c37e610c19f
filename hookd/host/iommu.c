/* IOMMU-group viability: see iommu.h for the rule and where it comes from. */
#include "iommu.h"

#include <string.h>

#include "action.h"
#include "pci.h"

/* The VM whose live journal bound a to vfio-pci ([vfio]'s "bind" record), or NULL. Any record
 * counts, done or not: a record whose change may have happened is held until release reverts it. */
static const char *holder_of(const struct pciaddr *a, const struct held_step *others, size_t n_others)
{
	char buf[PCIADDR_STRLEN];

	pciaddr_format(a, buf);
	for (size_t i = 0; i < n_others; i++) {
		const struct step_record *rec = &others[i].rec;

		if (!strcmp(rec->action, "vfio") && !strcmp(rec->target, buf) && !strcmp(rec->op, "bind"))
			return others[i].vm;
	}
	return NULL;
}

static bool listed(const struct pciaddr *a, const struct pciaddr *devs, size_t n_devs)
{
	for (size_t i = 0; i < n_devs; i++)
		if (pciaddr_equal(a, &devs[i]))
			return true;
	return false;
}

static enum iommu_member_state judge_member(const char *root, struct iommu_member *m, bool ours)
{
	if (m->held_by)
		return IOMMU_MEMBER_OTHER_VM; /* even when it is ours too: two VMs cannot share it */
	if (ours)
		return IOMMU_MEMBER_OURS;
	if (hpci_is_bridge(root, &m->addr))
		return IOMMU_MEMBER_BRIDGE;
	if (!m->driver || !strcmp(m->driver, "vfio-pci") || !strcmp(m->driver, "pci-stub"))
		return IOMMU_MEMBER_FREE;
	return IOMMU_MEMBER_HOST;
}

int iommu_group_judge(const char *root, unsigned group, const struct pciaddr *devs, size_t n_devs,
		      const struct held_step *others, size_t n_others, struct iommu_verdict *out, struct err *e)
{
	struct pciaddr *addrs;
	size_t n;
	int r = hpci_group_members(root, group, &addrs, &n, e);

	*out = (struct iommu_verdict){ .group = group };
	if (r < 0)
		return r;
	out->members = xcalloc(n ? n : 1, sizeof(*out->members));
	for (size_t i = 0; i < n; i++) {
		struct iommu_member *m = &out->members[out->n++];

		m->addr = addrs[i];
		r = hpci_driver(root, &addrs[i], &m->driver);
		if (r < 0) {
			char buf[PCIADDR_STRLEN];

			err_set(e, r, "%s: cannot read its driver link: %s", pciaddr_format(&addrs[i], buf),
				strerror(-r));
			free(addrs);
			iommu_verdict_free(out);
			return r;
		}
		m->held_by = holder_of(&addrs[i], others, n_others);
		m->state = judge_member(root, m, listed(&addrs[i], devs, n_devs));
		out->n_blockers += iommu_member_blocks(m);
	}
	free(addrs);
	return 0;
}

bool iommu_member_blocks(const struct iommu_member *m)
{
	return m->state == IOMMU_MEMBER_HOST || m->state == IOMMU_MEMBER_OTHER_VM;
}

const struct iommu_member *iommu_first_blocker(const struct iommu_verdict *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (iommu_member_blocks(&v->members[i]))
			return &v->members[i];
	return NULL;
}

void iommu_verdict_free(struct iommu_verdict *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->members[i].driver);
	free(v->members);
	*v = (struct iommu_verdict){ 0 };
}
