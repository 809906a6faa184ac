package dev.panaio.internal.context;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.iocb;
import dev.panaio.internal.gen.aio_abi.iovec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;

/**
 * A context's iocbs, one per slot plus the context's own wake-up poll, and
 * the array of pointers io_submit takes. Each field is written at its
 * generated offset within the iocb array rather than through a slice, so that
 * preparing a request allocates nothing even before the JIT has proved a
 * slice does not escape. The array of pointers is GC-managed memory, which a
 * downcall takes without an atomic operation; the iocbs are the context's.
 *
 * <p>Not thread-safe: used by the context's owner thread.
 */
public final class IocbWriter {
    /**
     * The generated ABI, in a holder: its initialisation calls restricted
     * methods, which must not happen before native access has been checked.
     */
    public static final class Abi {
        private Abi() {
        }

        static final long IOCB_SIZE = iocb.sizeof();
        static final long IOVEC_SIZE = iovec.sizeof();
        public static final short CMD_PREAD = (short) aio_abi_h.IOCB_CMD_PREAD();
        public static final short CMD_PWRITE = (short) aio_abi_h.IOCB_CMD_PWRITE();
        public static final short CMD_FSYNC = (short) aio_abi_h.IOCB_CMD_FSYNC();
        public static final short CMD_FDSYNC = (short) aio_abi_h.IOCB_CMD_FDSYNC();
        public static final short CMD_POLL = (short) aio_abi_h.IOCB_CMD_POLL();
        public static final short CMD_PREADV = (short) aio_abi_h.IOCB_CMD_PREADV();
        public static final short CMD_PWRITEV = (short) aio_abi_h.IOCB_CMD_PWRITEV();
        public static final int FLAG_RESFD = aio_abi_h.IOCB_FLAG_RESFD();
        public static final int FLAG_IOPRIO = aio_abi_h.IOCB_FLAG_IOPRIO();
    }

    private final Arena arena;
    private final int slots;
    private final MemorySegment iocbs;
    private final MemorySegment iocbPointers;
    /** Per slot: the iovec array of a vectored request, grown as needed and reused. */
    private final MemorySegment[] iovecs;

    /** Allocates the iocbs in {@code arena}, which lives as long as the context. */
    public IocbWriter(Arena arena, int slots) {
        this.arena = arena;
        this.slots = slots;
        // One more iocb than there are slots: the wake-up poll's.
        this.iocbs = arena.allocate(Abi.IOCB_SIZE * (slots + 1), 64);
        // GC-managed, not the context's arena: io_submit takes it as a segment, and a shared arena's session
        // would cost two atomic operations per call to acquire and release (see GuardedContext).
        this.iocbPointers = Arena.ofAuto().allocate(ValueLayout.ADDRESS, slots);
        this.iovecs = new MemorySegment[slots];
    }

    /** Writes every field of a slot's iocb in place; {@code aio_data} is the slot. */
    public void write(int slot, short opcode, int fd, int rwFlags, int flags, short reqprio, int resfd, long buf,
                      long nbytes, long offset) {
        long base = slot * Abi.IOCB_SIZE;
        iocbs.set(iocb.aio_data$layout(), base + iocb.aio_data$offset(), slot);
        iocbs.set(iocb.aio_key$layout(), base + iocb.aio_key$offset(), 0);
        iocbs.set(iocb.aio_rw_flags$layout(), base + iocb.aio_rw_flags$offset(), rwFlags);
        iocbs.set(iocb.aio_lio_opcode$layout(), base + iocb.aio_lio_opcode$offset(), opcode);
        iocbs.set(iocb.aio_reqprio$layout(), base + iocb.aio_reqprio$offset(), reqprio);
        iocbs.set(iocb.aio_fildes$layout(), base + iocb.aio_fildes$offset(), fd);
        iocbs.set(iocb.aio_buf$layout(), base + iocb.aio_buf$offset(), buf);
        iocbs.set(iocb.aio_nbytes$layout(), base + iocb.aio_nbytes$offset(), nbytes);
        iocbs.set(iocb.aio_offset$layout(), base + iocb.aio_offset$offset(), offset);
        iocbs.set(iocb.aio_reserved2$layout(), base + iocb.aio_reserved2$offset(), 0L);
        iocbs.set(iocb.aio_flags$layout(), base + iocb.aio_flags$offset(), flags);
        iocbs.set(iocb.aio_resfd$layout(), base + iocb.aio_resfd$offset(), resfd);
    }

    /**
     * Writes the iovec array of a vectored request into the slot's own
     * native memory.
     *
     * @return the array's address, for {@code aio_buf}
     */
    public long writeIovecs(int slot, MemorySegment[] buffers) {
        MemorySegment vec = iovecs[slot];
        if (vec == null || vec.byteSize() < buffers.length * Abi.IOVEC_SIZE) {
            vec = iovecs[slot] = arena.allocate(Abi.IOVEC_SIZE * Math.max(buffers.length, 8), 8);
        }
        for (int i = 0; i < buffers.length; i++) {
            MemorySegment v = iovec.asSlice(vec, i);
            iovec.iov_base(v, buffers[i]);
            iovec.iov_len(v, buffers[i].byteSize());
        }
        return vec.address();
    }

    /** Points entry {@code index} of io_submit's array at the slot's iocb. */
    public void point(int index, int slot) {
        iocbPointers.setAtIndex(ValueLayout.JAVA_LONG, index, iocbs.address() + slot * Abi.IOCB_SIZE);
    }

    /** io_submit's array from entry {@code index} on: the whole array in the usual case, no slice to keep. */
    public MemorySegment pointersFrom(int index) {
        return index == 0 ? iocbPointers : iocbPointers.asSlice(index * ValueLayout.ADDRESS.byteSize());
    }

    /** The iocb of a slot, as io_cancel names it. */
    public MemorySegment iocb(int slot) {
        return iocbs.asSlice(slot * Abi.IOCB_SIZE, Abi.IOCB_SIZE);
    }

    /** The wake-up poll's iocb, after the slots': POLLIN on {@code eventFd}, with {@code data}. */
    public MemorySegment writeWakeupPoll(int eventFd, long data) {
        MemorySegment cb = iocbs.asSlice(slots * Abi.IOCB_SIZE, Abi.IOCB_SIZE);
        cb.fill((byte) 0);
        iocb.aio_data(cb, data);
        iocb.aio_lio_opcode(cb, Abi.CMD_POLL);
        iocb.aio_fildes(cb, eventFd);
        iocb.aio_buf(cb, 1); // POLLIN
        return cb;
    }

    /** A slot's iocb in words, for the message of a rejected request. */
    public String describe(int slot) {
        MemorySegment cb = iocb(slot);
        return String.format(Locale.ROOT, "%s fd=%d offset=%d nbytes=%d rw_flags=0x%x",
                opcodeName(iocb.aio_lio_opcode(cb)), iocb.aio_fildes(cb), iocb.aio_offset(cb),
                iocb.aio_nbytes(cb), iocb.aio_rw_flags(cb));
    }

    private static String opcodeName(short opcode) {
        if (opcode == Abi.CMD_PREAD) return "PREAD";
        if (opcode == Abi.CMD_PWRITE) return "PWRITE";
        if (opcode == Abi.CMD_FSYNC) return "FSYNC";
        if (opcode == Abi.CMD_FDSYNC) return "FDSYNC";
        if (opcode == Abi.CMD_POLL) return "POLL";
        if (opcode == Abi.CMD_PREADV) return "PREADV";
        if (opcode == Abi.CMD_PWRITEV) return "PWRITEV";
        return "opcode " + opcode;
    }
}
