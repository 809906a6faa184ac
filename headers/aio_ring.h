/*
 * panaio: the header of the completion ring that io_setup maps into the
 * process. The kernel keeps this structure private (fs/aio.c) and no
 * installed header declares it, so panaio declares the same layout here.
 * The ring is ABI all the same: the kernel has kept it unchanged since 2.6
 * so that user space (libaio, fio, Seastar) can reap completions without a
 * system call.
 */
#ifndef PANAIO_AIO_RING_H
#define PANAIO_AIO_RING_H

#include <linux/aio_abi.h>

/* Values the kernel writes into a ring it recognises as this layout. */
#define AIO_RING_MAGIC              0xa10a10a1
#define AIO_RING_COMPAT_FEATURES    1
#define AIO_RING_INCOMPAT_FEATURES  0

struct aio_ring {
    unsigned id;                /* kernel's index of the context; never write it */
    unsigned nr;                /* slots in io_events[] */
    unsigned head;              /* consumer index: written by the single reaper */
    unsigned tail;              /* producer index: written by the kernel */
    unsigned magic;             /* AIO_RING_MAGIC */
    unsigned compat_features;
    unsigned incompat_features; /* must be AIO_RING_INCOMPAT_FEATURES to reap here */
    unsigned header_length;     /* sizeof(struct aio_ring) */
    struct io_event io_events[];
};

#endif
