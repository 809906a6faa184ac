package dev.panaio.internal.sys;

import java.util.Locale;

/**
 * The facts about the running CPU architecture that the kernel does not share
 * between architectures: system call numbers and a few {@code open(2)} flags.
 *
 * <p>jextract cannot generate these portably: it sees the headers of the
 * machine it runs on, and {@code <asm/unistd.h>} and {@code <asm/fcntl.h>}
 * differ between x86_64 and aarch64 (which, like riscv64, uses
 * asm-generic). The values come from the kernel's syscall tables and never
 * change once assigned.
 */
public enum Architecture {
    /** x86_64: arch/x86/entry/syscalls/syscall_64.tbl. */
    X86_64(206, 207, 209, 210, 208, 290, 332, 327, 328, 451, 0x4000, 0x20000),
    /** aarch64: include/uapi/asm-generic/unistd.h. */
    AARCH64(0, 1, 2, 3, 4, 19, 291, 286, 287, 451, 0x10000, 0x8000);

    public final long ioSetup;
    public final long ioDestroy;
    public final long ioSubmit;
    public final long ioCancel;
    public final long ioGetevents;
    public final long eventfd2;
    public final long statx;
    public final long preadv2;
    public final long pwritev2;
    /** {@code cachestat} (Linux 6.5+): 451 everywhere, the number from which every architecture shares one table. */
    public final long cachestat;
    /** {@code O_DIRECT}: 040000 on x86_64, 0200000 on asm-generic architectures. */
    public final int oDirect;
    /** {@code O_NOFOLLOW}: 0400000 on x86_64, 0100000 on aarch64 (arch/arm64/include/uapi/asm/fcntl.h). */
    public final int oNofollow;

    Architecture(long ioSetup, long ioDestroy, long ioSubmit, long ioCancel, long ioGetevents,
                 long eventfd2, long statx, long preadv2, long pwritev2, long cachestat, int oDirect,
                 int oNofollow) {
        this.ioSetup = ioSetup;
        this.ioDestroy = ioDestroy;
        this.ioSubmit = ioSubmit;
        this.ioCancel = ioCancel;
        this.ioGetevents = ioGetevents;
        this.eventfd2 = eventfd2;
        this.statx = statx;
        this.preadv2 = preadv2;
        this.pwritev2 = pwritev2;
        this.cachestat = cachestat;
        this.oDirect = oDirect;
        this.oNofollow = oNofollow;
    }

    private static final Architecture CURRENT = detect(System.getProperty("os.name"), System.getProperty("os.arch"));

    /**
     * The architecture this JVM runs on.
     *
     * @throws UnsupportedOperationException naming the OS or architecture, where panaio has no syscall table for it
     */
    public static Architecture current() {
        if (CURRENT == null) {
            throw unsupported(System.getProperty("os.name"), System.getProperty("os.arch"));
        }
        return CURRENT;
    }

    static Architecture detect(String os, String arch) {
        if (!"Linux".equals(os)) {
            return null;
        }
        return switch (arch) {
            case "amd64", "x86_64" -> X86_64;
            case "aarch64", "arm64" -> AARCH64;
            default -> null;
        };
    }

    static UnsupportedOperationException unsupported(String os, String arch) {
        return new UnsupportedOperationException(String.format(Locale.ROOT,
                "panaio supports Linux on x86_64 and aarch64; this JVM runs on %s/%s, for which panaio has no "
                        + "system call table", os, arch));
    }
}
