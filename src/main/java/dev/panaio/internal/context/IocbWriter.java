package dev.panaio.internal.context;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;
import dev.panaio.internal.gen.aio_abi.iocb;
import dev.panaio.internal.gen.aio_abi.iovec;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Locale;

/**
 * A context's iocbs, one per slot plus the context's own wake-up poll, and
 * the array of pointers io_submit takes. Each iocb is written in place, at
 * its offset within the iocb array rather than through a slice, so that
 * preparing a request allocates nothing even before the JIT has proved a
 * slice does not escape; and as eight 8-byte words, the fields that share a
 * word packed into it at the positions the generated offsets give. The array of pointers is GC-managed memory, which a
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

        // The iocb is written as eight 8-byte words, the small fields packed into theirs at the bit position
        // their generated offset gives in this machine's byte order (checked below), so that preparing a request
        // makes eight bounds-checked stores instead of twelve.
        static final long KEY_WORD = wordOf(iocb.aio_key$offset());
        static final int RW_FLAGS_SHIFT = shiftOf(iocb.aio_rw_flags$offset(), Integer.BYTES);
        static final long OPCODE_WORD = wordOf(iocb.aio_lio_opcode$offset());
        static final int OPCODE_SHIFT = shiftOf(iocb.aio_lio_opcode$offset(), Short.BYTES);
        static final int REQPRIO_SHIFT = shiftOf(iocb.aio_reqprio$offset(), Short.BYTES);
        static final int FILDES_SHIFT = shiftOf(iocb.aio_fildes$offset(), Integer.BYTES);
        static final long FLAGS_WORD = wordOf(iocb.aio_flags$offset());
        static final int FLAGS_SHIFT = shiftOf(iocb.aio_flags$offset(), Integer.BYTES);
        static final int RESFD_SHIFT = shiftOf(iocb.aio_resfd$offset(), Integer.BYTES);

        static {
            // The packing above assumes linux/aio_abi.h's layout: 64 bytes, the 8-byte fields in words of their
            // own, key and rw_flags sharing one word, opcode, reqprio and fildes one, flags and resfd one.
            // Little-endian only: the generated offsets are those of a little-endian machine (x86_64, aarch64, the
            // architectures panaio supports), where key precedes rw_flags; a big-endian kernel swaps the two.
            boolean packs = IOCB_SIZE == 64 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN
                    && iocb.aio_data$offset() == 0 && iocb.aio_buf$offset() == 24 && iocb.aio_nbytes$offset() == 32
                    && iocb.aio_offset$offset() == 40 && iocb.aio_reserved2$offset() == 48
                    && wordOf(iocb.aio_rw_flags$offset()) == KEY_WORD && KEY_WORD == 8
                    && wordOf(iocb.aio_reqprio$offset()) == OPCODE_WORD
                    && wordOf(iocb.aio_fildes$offset()) == OPCODE_WORD && OPCODE_WORD == 16
                    && wordOf(iocb.aio_resfd$offset()) == FLAGS_WORD && FLAGS_WORD == 56;
            if (!packs) {
                throw new AssertionError("struct iocb is not laid out as linux/aio_abi.h lays it out: " + iocb.layout());
            }
        }

        private static long wordOf(long offset) {
            return offset & ~7L;
        }

        /** The left shift that puts a field at {@code offset} into its little-endian word's value. */
        private static int shiftOf(long offset, int size) {
            return (int) (offset & 7) * 8;
        }
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

    /**
     * Writes every field of a slot's iocb in place, eight words of which every byte is written (aio_key and
     * aio_reserved2 0); {@code aio_data} is the slot.
     */
    public void write(int slot, short opcode, int fd, int rwFlags, int flags, short reqprio, int resfd, long buf,
                      long nbytes, long offset) {
        long base = slot * Abi.IOCB_SIZE;
        iocbs.set(ValueLayout.JAVA_LONG, base + iocb.aio_data$offset(), slot);
        iocbs.set(ValueLayout.JAVA_LONG, base + Abi.KEY_WORD, (rwFlags & 0xffff_ffffL) << Abi.RW_FLAGS_SHIFT);
        iocbs.set(ValueLayout.JAVA_LONG, base + Abi.OPCODE_WORD, (opcode & 0xffffL) << Abi.OPCODE_SHIFT
                | (reqprio & 0xffffL) << Abi.REQPRIO_SHIFT | (fd & 0xffff_ffffL) << Abi.FILDES_SHIFT);
        iocbs.set(ValueLayout.JAVA_LONG, base + iocb.aio_buf$offset(), buf);
        iocbs.set(ValueLayout.JAVA_LONG, base + iocb.aio_nbytes$offset(), nbytes);
        iocbs.set(ValueLayout.JAVA_LONG, base + iocb.aio_offset$offset(), offset);
        iocbs.set(ValueLayout.JAVA_LONG, base + iocb.aio_reserved2$offset(), 0L);
        iocbs.set(ValueLayout.JAVA_LONG, base + Abi.FLAGS_WORD, (flags & 0xffff_ffffL) << Abi.FLAGS_SHIFT
                | (resfd & 0xffff_ffffL) << Abi.RESFD_SHIFT);
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
