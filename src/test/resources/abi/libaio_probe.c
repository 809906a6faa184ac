/* Prints libaio's struct iocb and struct io_event as gcc lays them out, under
 * the kernel's field names, so AbiLayoutTest can compare them with
 * linux/aio_abi.h. A translation unit of its own: libaio.h and
 * linux/aio_abi.h cannot be included together. */
#include <stddef.h>
#include <stdio.h>
#include <libaio.h>

#define SIZE(s)           printf("%s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f, name) printf("%s.%s %zu %zu\n", #s, name, offsetof(struct s, f), sizeof(((struct s *)0)->f))

int main(void) {
    SIZE(iocb);
    FIELD(iocb, data, "aio_data");
    FIELD(iocb, key, "aio_key");
    FIELD(iocb, aio_rw_flags, "aio_rw_flags");
    FIELD(iocb, aio_lio_opcode, "aio_lio_opcode");
    FIELD(iocb, aio_reqprio, "aio_reqprio");
    FIELD(iocb, aio_fildes, "aio_fildes");
    FIELD(iocb, u.c.buf, "aio_buf");
    FIELD(iocb, u.c.nbytes, "aio_nbytes");
    FIELD(iocb, u.c.offset, "aio_offset");
    FIELD(iocb, u.c.__pad3, "aio_reserved2");
    FIELD(iocb, u.c.flags, "aio_flags");
    FIELD(iocb, u.c.resfd, "aio_resfd");

    SIZE(io_event);
    FIELD(io_event, data, "data");
    FIELD(io_event, obj, "obj");
    FIELD(io_event, res, "res");
    FIELD(io_event, res2, "res2");
    return 0;
}
