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
        REALTIME(aio_abi_h.IOPRIO_CLASS_RT()),
        /** The default class. */
        BEST_EFFORT(aio_abi_h.IOPRIO_CLASS_BE()),
        /** Served only when the disk is otherwise idle. */
        IDLE(aio_abi_h.IOPRIO_CLASS_IDLE());

        final int value;

        IoClass(int value) {
            this.value = value;
        }
    }

    /**
     * @throws NullPointerException     if ioClass is null
     * @throws IllegalArgumentException if level is outside 0 to 7
     */
    public IoPriority {
        java.util.Objects.requireNonNull(ioClass, "ioClass");
        if (level < 0 || level >= aio_abi_h.IOPRIO_NR_LEVELS()) {
            throw new IllegalArgumentException("I/O priority level must be 0 to "
                    + (aio_abi_h.IOPRIO_NR_LEVELS() - 1) + ", not " + level);
        }
    }

    /** The value for {@code aio_reqprio}: class in the top bits, level below. */
    short value() {
        return (short) (ioClass.value << aio_abi_h.IOPRIO_CLASS_SHIFT() | level);
    }
}
