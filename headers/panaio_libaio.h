/*
 * panaio: libaio's own declarations of struct iocb and struct io_event.
 * <libaio.h> (Debian libaio-dev) conflicts with <linux/aio_abi.h>, so it is a
 * translation unit of its own. panaio never calls libaio: these layouts are
 * generated only so that a test can show they match the kernel's.
 */
#include <libaio.h>
