/* [vfio]'s answer to which devices it moves, for the commands that must agree with its plan. */
#ifndef HOOKD_VFIO_H
#define HOOKD_VFIO_H

#include "pciaddr.h"
#include "vmconfig.h"

/* The devices [vfio]'s plan moves for ctx->dom under cfg's [vfio] section: the domain's hostdevs
 * (devices = auto) or the listed addresses, each followed by its slot's other functions unless
 * companions = no. Without a [vfio] section (or cfg NULL), what its defaults would move (auto, with
 * companions). -ENODEV with e->msg for the first device that is not on the host. */
int vfio_devices(const struct action_ctx *ctx, const struct vm_config *cfg, struct pciaddr_list *out, struct err *e);

#endif
