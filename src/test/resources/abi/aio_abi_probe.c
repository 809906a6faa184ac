/* Prints the kernel ABI as gcc lays it out: "struct.field offset size" lines.
 * Compiled and run by AbiLayoutTest against headers/panaio_aio_abi.h. */
#include <stddef.h>
#include <stdio.h>
#include "panaio_aio_abi.h"

#define SIZE(s)     printf("%s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f) printf("%s.%s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))

int main(void) {
    SIZE(iocb);
    FIELD(iocb, aio_data);
    FIELD(iocb, aio_key);
    FIELD(iocb, aio_rw_flags);
    FIELD(iocb, aio_lio_opcode);
    FIELD(iocb, aio_reqprio);
    FIELD(iocb, aio_fildes);
    FIELD(iocb, aio_buf);
    FIELD(iocb, aio_nbytes);
    FIELD(iocb, aio_offset);
    FIELD(iocb, aio_reserved2);
    FIELD(iocb, aio_flags);
    FIELD(iocb, aio_resfd);

    SIZE(io_event);
    FIELD(io_event, data);
    FIELD(io_event, obj);
    FIELD(io_event, res);
    FIELD(io_event, res2);

    SIZE(aio_ring);
    FIELD(aio_ring, id);
    FIELD(aio_ring, nr);
    FIELD(aio_ring, head);
    FIELD(aio_ring, tail);
    FIELD(aio_ring, magic);
    FIELD(aio_ring, compat_features);
    FIELD(aio_ring, incompat_features);
    FIELD(aio_ring, header_length);
    printf("aio_ring.io_events %zu 0\n", offsetof(struct aio_ring, io_events));

    SIZE(__kernel_timespec);
    FIELD(__kernel_timespec, tv_sec);
    FIELD(__kernel_timespec, tv_nsec);

    SIZE(iovec);
    FIELD(iovec, iov_base);
    FIELD(iovec, iov_len);

    SIZE(__aio_sigset);
    FIELD(__aio_sigset, sigmask);
    FIELD(__aio_sigset, sigsetsize);

    SIZE(statx);
    FIELD(statx, stx_mask);
    FIELD(statx, stx_size);
    FIELD(statx, stx_dev_major);
    FIELD(statx, stx_dev_minor);
    FIELD(statx, stx_dio_mem_align);
    FIELD(statx, stx_dio_offset_align);

    SIZE(flock);
    FIELD(flock, l_type);
    FIELD(flock, l_whence);
    FIELD(flock, l_start);
    FIELD(flock, l_len);
    FIELD(flock, l_pid);
    return 0;
}
