/* Prints glibc's struct flock, as fcntl(2) takes it with a 64-bit off_t, in
 * aio_abi_probe.c's format, and the fcntl constants panaio passes with it.
 * Compiled and run by AbiLayoutTest: the kernel's struct flock (which panaio
 * generates) must lay out the same. glibc's <fcntl.h> and the kernel's
 * <linux/fcntl.h> both declare struct flock, so this is a TU of its own. */
#define _GNU_SOURCE
#define _FILE_OFFSET_BITS 64
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>

#define SIZE(s)     printf("%s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f) printf("%s.%s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define CONSTANT(c) printf("%s %d\n", #c, (int) (c))

int main(void) {
    SIZE(flock);
    FIELD(flock, l_type);
    FIELD(flock, l_whence);
    FIELD(flock, l_start);
    FIELD(flock, l_len);
    FIELD(flock, l_pid);

    CONSTANT(F_OFD_GETLK);
    CONSTANT(F_OFD_SETLK);
    CONSTANT(F_OFD_SETLKW);
    CONSTANT(F_RDLCK);
    CONSTANT(F_WRLCK);
    CONSTANT(F_UNLCK);
    CONSTANT(SEEK_SET);
    return 0;
}
