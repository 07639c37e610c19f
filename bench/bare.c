/* The baseline: a C program that drains stdin and exits, as the cheapest possible hook would. */
#include <unistd.h>

int main(void)
{
	char buf[65536];

	while (read(0, buf, sizeof(buf)) > 0)
		;
	return 0;
}
