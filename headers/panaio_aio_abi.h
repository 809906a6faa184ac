/*
 * panaio: the one translation unit from which jextract generates the kernel
 * AIO ABI that panaio uses (package dev.panaio.internal.gen.aio_abi).
 * Only system headers from linux-libc-dev plus panaio's own aio_ring.h.
 * jextract.conf lists exactly which declarations are taken from it.
 */
#include <linux/aio_abi.h>   /* struct iocb, struct io_event, IOCB_CMD_*, IOCB_FLAG_* */
#include <linux/fs.h>        /* RWF_*, SEEK_SET */
#include <linux/stat.h>      /* struct statx, STATX_* */
#include <linux/ioprio.h>    /* IOPRIO_CLASS_* */
#include <linux/errno.h>     /* E* numbers, identical on x86_64 and aarch64 */
#include <linux/fcntl.h>     /* AT_EMPTY_PATH; via <asm/fcntl.h>: struct flock, F_OFD_*, F_*LCK
                              (the arch-specific O_* flags are not taken) */
#include <linux/time_types.h> /* struct __kernel_timespec: io_getevents timeouts */
#include <linux/uio.h>       /* struct iovec, UIO_MAXIOV: PREADV / PWRITEV */
#include <linux/falloc.h>    /* FALLOC_FL_*: fallocate modes */
#include <linux/fadvise.h>   /* POSIX_FADV_*: posix_fadvise advice */
#include "aio_ring.h"        /* struct aio_ring */

/*
 * io_pgetevents' sixth argument. Like the ring, it is declared only inside the
 * kernel (fs/aio.c). sigsetsize is the kernel's sigset size (8 bytes on
 * x86_64 and aarch64), not glibc's 128-byte sigset_t.
 */
struct __aio_sigset {
    const void *sigmask;
    __kernel_size_t sigsetsize;
};

/*
 * struct flock (asm-generic/fcntl.h) is what fcntl(F_OFD_*) takes. On x86_64 and
 * aarch64 __kernel_off_t is 64 bits, so it is glibc's struct flock too:
 * l_type s16, l_whence s16, l_start s64, l_len s64, l_pid s32; 32 bytes.
 */

/*
 * rw flags newer than the oldest linux-libc-dev panaio builds against.
 * The values are kernel ABI (include/uapi/linux/fs.h) and never change.
 */
#ifndef RWF_NOAPPEND
#define RWF_NOAPPEND  ((__kernel_rwf_t)0x00000020)   /* Linux 6.9 */
#endif
#ifndef RWF_DONTCACHE
#define RWF_DONTCACHE ((__kernel_rwf_t)0x00000080)   /* Linux 6.14 */
#endif
