package dev.panaio;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;

/**
 * An I/O priority for one request ({@code iocb.aio_reqprio} with
 * {@code IOCB_FLAG_IOPRIO}), in the classes of {@code ioprio_set(2)}. It
 * matters only to I/O schedulers that honour priorities (BFQ, mq-deadline).
 *
 * @param ioClass the scheduling class
 * @param level   0 (highest) to 7 (lowest) within the class
 */
public record IoPriority(IoClass ioClass, int level) {
    /** The scheduling classes of ioprio_set(2). */
    public enum IoClass {
        /** Served first; needs CAP_SYS_ADMIN or CAP_SYS_NICE. */
        REALTIME,
        /** The default class. */
        BEST_EFFORT,
        /** Served only when the disk is otherwise idle. */
        IDLE;

        /** The kernel's value, looked up on use (see {@link RwFlag#bits()} for why). */
        int value() {
            return switch (this) {
                case REALTIME -> aio_abi_h.IOPRIO_CLASS_RT();
                case BEST_EFFORT -> aio_abi_h.IOPRIO_CLASS_BE();
                case IDLE -> aio_abi_h.IOPRIO_CLASS_IDLE();
            };
        }
    }

    /**
     * Checks the class and level.
     *
     * @throws NullPointerException     if ioClass is null
     * @throws IllegalArgumentException if level is outside 0 to 7
     */
    public IoPriority {
        java.util.Objects.requireNonNull(ioClass, "ioClass");
        // 8 levels (IOPRIO_NR_LEVELS); not read from the generated header here, see RwFlag#bits().
        if (level < 0 || level > 7) {
            throw new IllegalArgumentException("I/O priority level must be 0 to 7, not " + level);
        }
    }

    /** The value for {@code aio_reqprio}: class in the top bits, level below. */
    short value() {
        return (short) (ioClass.value() << aio_abi_h.IOPRIO_CLASS_SHIFT() | level);
    }
}
