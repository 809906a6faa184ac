package dev.panaio;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;

/** Access-pattern advice for {@link AioFile#advise} ({@code posix_fadvise}'s {@code POSIX_FADV_*}). */
public enum Advice {
    /** No particular pattern: the default readahead (POSIX_FADV_NORMAL). */
    NORMAL,
    /** Read from lower to higher offsets: readahead doubles (POSIX_FADV_SEQUENTIAL). */
    SEQUENTIAL,
    /** Random access: no readahead (POSIX_FADV_RANDOM). */
    RANDOM,
    /** The range will be read soon: the kernel starts reading it into the page cache (POSIX_FADV_WILLNEED). */
    WILLNEED,
    /** The range will not be read soon: its clean pages are dropped from the page cache (POSIX_FADV_DONTNEED). */
    DONTNEED,
    /** The range will be read once (POSIX_FADV_NOREUSE; Linux 6.3+ acts on it, older kernels accept it). */
    NOREUSE;

    /** The kernel's value, looked up on use: the generated header class must wait for the native-access check. */
    int value() {
        return switch (this) {
            case NORMAL -> aio_abi_h.POSIX_FADV_NORMAL();
            case SEQUENTIAL -> aio_abi_h.POSIX_FADV_SEQUENTIAL();
            case RANDOM -> aio_abi_h.POSIX_FADV_RANDOM();
            case WILLNEED -> aio_abi_h.POSIX_FADV_WILLNEED();
            case DONTNEED -> aio_abi_h.POSIX_FADV_DONTNEED();
            case NOREUSE -> aio_abi_h.POSIX_FADV_NOREUSE();
        };
    }
}
