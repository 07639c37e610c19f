/* The module syscalls in libsimkernel.so: what libkmod calls to load and unload modules, acted
 * out on the fixture root by simmodules.c instead of the kernel.
 *
 * libkmod 30 (Debian 12) loads with finit_module(fd) through libc's syscall() (kmod has no
 * finit_module wrapper in glibc 2.36: shared/missing.h), falling back to libc's init_module(image)
 * when that says ENOSYS, and unloads with libc's delete_module(name, O_NONBLOCK). kmod's own
 * testsuite (testsuite/init_module.c, delete_module.c) interposes the same three entry points.
 *
 * SAFETY: an intercepted module syscall is NEVER forwarded to the kernel, whether HOOKD_SIM_ROOT is
 * set or not: without a simulated root it fails with EPERM. The fixture's modules are named sim_*,
 * which no real kernel has, so even a broken interposer could not unload a real module. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "simmodules.h"

/* hookd's kmod.c lets libkmod act under a simulated root only when this symbol is present. */
__attribute__((visibility("default"))) const int simkernel_module_syscalls = 1;

static int sim_root(char *out)
{
	const char *env = getenv("HOOKD_SIM_ROOT");

	if (!env || env[0] != '/' || !realpath(env, out) || strcmp(out, "/") == 0)
		return -EPERM;
	return 0;
}

static long fail(int r)
{
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

/* The module syscalls libkmod calls by name; glibc declares none of them. */
long init_module(const void *image, unsigned long len, const char *args);
int finit_module(int fd, const char *args, int flags);
long delete_module(const char *name, unsigned int flags);

long init_module(const void *image, unsigned long len, const char *args)
{
	char root[PATH_MAX];
	int r = sim_root(root);

	(void)args;
	return fail(r < 0 ? r : simmod_insert(root, image, len));
}

static long sim_finit_module(int fd)
{
	char root[PATH_MAX], buf[4096];
	int r = sim_root(root);
	ssize_t n;

	if (r < 0)
		return fail(r);
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return fail(-errno);
	return fail(simmod_insert(root, buf, (size_t)n));
}

int finit_module(int fd, const char *args, int flags)
{
	(void)args, (void)flags;
	return (int)sim_finit_module(fd);
}

long delete_module(const char *name, unsigned int flags)
{
	char root[PATH_MAX];
	int r = sim_root(root);

	(void)flags;
	return fail(r < 0 ? r : simmod_delete(root, name));
}

long syscall(long nr, ...)
{
	static long (*real_syscall)(long, ...);
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case SYS_init_module: return init_module((const void *)a[0], (unsigned long)a[1], (const char *)a[2]);
	case SYS_finit_module: return sim_finit_module((int)a[0]);
	case SYS_delete_module: return delete_module((const char *)a[0], (unsigned int)a[1]);
	}
	if (!real_syscall)
		*(void **)&real_syscall = dlsym(RTLD_NEXT, "syscall");
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
