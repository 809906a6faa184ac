package dev.panaio.internal.context;

import dev.panaio.internal.sys.FileDescriptorHandle;

import java.util.Arrays;

/**
 * A context's request slots: which are free, prepared or in the kernel, the
 * tag of each, the buffers the kernel may touch (kept reachable until the
 * completion is reaped), and the descriptors a prepared request names (held
 * until io_submit has taken them, so that a closed file's number cannot be
 * reused under it).
 *
 * <p>The memory a slot's request hands the kernel is chosen and settled by
 * its {@link RequestMemory}.
 *
 * <p>A slot's index is the iocb's {@code aio_data}: a completion names its
 * slot, never an object, so the table allocates nothing per request.
 *
 * <p>Descriptor pinning: the file of the last batch keeps one use held by the
 * table across requests, so that a stream of requests on one file costs no
 * atomic operation each. The pin changes or goes only when nothing is
 * prepared, since prepared requests on the pinned file rely on it. It is
 * never held across a sleep ({@link #dropPin()}): closing a file must close
 * its descriptor at once, not when the owner thread next wakes up.
 *
 * <p>Not thread-safe: used by the context's owner thread.
 */
public final class SlotTable {
    private final int[] freeSlots;
    private int freeCount;
    private final int[] preparedSlots;
    private int preparedCount;
    private int inFlight;
    private final long[] tags;
    /** Per slot: whether it is in the kernel, so that a second completion for it is caught, not obeyed. */
    private final boolean[] submitted;
    /** Per slot: the buffer(s) the kernel may touch, kept reachable until the completion is reaped. */
    private final Object[] buffers;
    /** Per slot: the file descriptor the prepared iocb names, unless the pin covers it. */
    private final FileDescriptorHandle[] files;
    /** Per slot: the eventfd the prepared iocb signals. */
    private final FileDescriptorHandle[] notifyFds;
    /** The file with one use held across requests. */
    private FileDescriptorHandle pinned;
    /** Whether the pin was taken by a prepare since the last submit: if every prepared request is dropped, it goes too. */
    private boolean pinAdopted;
    /** The file of the most recent prepare: the one to pin after the next submit. */
    private FileDescriptorHandle lastFile;
    /** Per slot: the memory the kernel gets, in place or bounced, and the arena uses held for it. */
    private final RequestMemory memory;

    /** A table of {@code slots} free slots. */
    public SlotTable(int slots) {
        this.freeSlots = new int[slots];
        for (int i = 0; i < slots; i++) {
            freeSlots[i] = slots - 1 - i;
        }
        this.freeCount = slots;
        this.preparedSlots = new int[slots];
        this.tags = new long[slots];
        this.submitted = new boolean[slots];
        this.buffers = new Object[slots];
        this.files = new FileDescriptorHandle[slots];
        this.notifyFds = new FileDescriptorHandle[slots];
        this.memory = new RequestMemory(slots);
    }

    /** The memory of each slot's request. */
    public RequestMemory memory() {
        return memory;
    }

    /** Slots in all. */
    public int capacity() {
        return tags.length;
    }

    /** Whether every slot is taken: prepared, in flight, or completed and not yet delivered. */
    public boolean isFull() {
        return freeCount == 0;
    }

    /** Requests prepared and not yet submitted. */
    public int prepared() {
        return preparedCount;
    }

    /** Requests in the kernel whose completions have not been taken from it. */
    public int inFlight() {
        return inFlight;
    }

    /**
     * Takes a free slot for a request on {@code file}, and a use of the file
     * unless the pin covers it. The caller has checked {@link #isFull()}.
     *
     * @throws IllegalStateException if the file is closed; then nothing is taken
     */
    public int take(FileDescriptorHandle file) {
        boolean covered = file == pinned && file.isOpen();
        if (!covered) {
            file.acquire();
            if (pinned == null) {
                // No pin (the thread slept, or nothing was pinned yet): this use becomes the pin at once, so the
                // batch after a sleep costs one acquire, not one per request. Nothing relies on an absent pin.
                pinned = file;
                pinAdopted = true;
                covered = true;
            }
        }
        int slot = freeSlots[--freeCount];
        files[slot] = covered ? null : file; // a pinned file needs no use of its own per request
        lastFile = file;
        return slot;
    }

    /** Holds a use of the eventfd a slot's request signals; returns its number. */
    public int holdNotify(int slot, FileDescriptorHandle eventFd) {
        int fd = eventFd.acquire();
        notifyFds[slot] = eventFd;
        return fd;
    }

    /** Records the caller's tag of the request in {@code slot}. */
    public void setTag(int slot, long tag) {
        tags[slot] = tag;
    }

    /** The caller's tag of the request in {@code slot}. */
    public long tag(int slot) {
        return tags[slot];
    }

    /**
     * Appends a prepared slot to the batch, keeping {@code keepAlive}
     * reachable until its completion.
     *
     * @return its index in the batch
     */
    public int addPrepared(int slot, Object keepAlive) {
        buffers[slot] = keepAlive;
        preparedSlots[preparedCount] = slot;
        return preparedCount++;
    }

    /** The slot at {@code index} of the batch. */
    public int preparedSlot(int index) {
        return preparedSlots[index];
    }

    /** Frees a slot that never reached the kernel, with its descriptor uses. */
    public void abort(int slot) {
        releaseDescriptors(slot);
        memory.abort(slot);
        buffers[slot] = null;
        freeSlots[freeCount++] = slot;
        dropAdoptedPinIfUnused();
    }

    /** A refused prepare gives back every use it took, the adopted pin included, once nothing relies on it. */
    private void dropAdoptedPinIfUnused() {
        if (pinAdopted && preparedCount == 0) {
            pinAdopted = false;
            unpin();
        }
    }

    /** Frees the batch's slots from {@code index} on, which never reached the kernel; the batch is then empty. */
    public void abortPreparedFrom(int index) {
        for (int i = index; i < preparedCount; i++) {
            abort(preparedSlots[i]);
        }
        preparedCount = 0;
        dropAdoptedPinIfUnused();
    }

    /** The batch is all in the kernel. */
    public void clearPrepared() {
        preparedCount = 0;
        pinAdopted = false;
    }

    /** The kernel took {@code count} requests of the batch from {@code index}: their descriptors go. */
    public void markSubmitted(int index, int count) {
        for (int i = index; i < index + count; i++) {
            int slot = preparedSlots[i];
            submitted[slot] = true;
            releaseDescriptors(slot);
        }
        inFlight += count;
        pinAdopted = false; // a request of the batch reached the kernel: the pin is an ordinary one now
    }

    /**
     * Settles the memory of a completion the kernel delivered (a bounced
     * read's bytes are copied back, arena uses given back), before
     * {@link #complete(long)} frees its slot.
     *
     * @return the result to deliver: the kernel's, or {@code -EFAULT} when a bounced read could not be copied
     *         back
     * @throws IllegalStateException if the slot is not in flight: the ring is corrupt, or something else reaps
     */
    public long settle(long data, long result) {
        checkInFlight(data);
        return memory.complete((int) data, result);
    }

    /**
     * Frees the slot of a completion the kernel delivered, once
     * {@link #settle} has checked that it is in flight (so not again here).
     *
     * @return the request's tag
     */
    long complete(long data) {
        int slot = (int) data;
        assert submitted[slot] : "slot " + slot + " completed without settle's check";
        submitted[slot] = false;
        buffers[slot] = null;
        freeSlots[freeCount++] = slot;
        inFlight--;
        return tags[slot];
    }

    private void checkInFlight(long data) {
        if (data < 0 || data >= tags.length || !submitted[(int) data]) {
            throw new IllegalStateException("completion for request slot " + data + ", which is not in flight: "
                    + "the ring is corrupt, or something else reaps this context");
        }
    }

    /** The slot of the first in-flight request with {@code tag}, or -1. */
    public int findInFlight(long tag) {
        for (int slot = 0; slot < tags.length; slot++) {
            if (submitted[slot] && tags[slot] == tag) {
                return slot;
            }
        }
        return -1;
    }

    /** Whether the pinned file was closed, so that its descriptor should be let go. */
    public boolean pinnedFileClosed() {
        return pinned != null && !pinned.isOpen();
    }

    /**
     * Moves the pin to the file just submitted to, or drops it when that file
     * was closed; only with nothing prepared.
     */
    public void repin() {
        if (preparedCount != 0) {
            return;
        }
        FileDescriptorHandle last = lastFile;
        if (last == pinned) { // the usual case: the batch was on the pinned file; one look at its state
            if (last != null && !last.isOpen()) {
                unpin();
            }
            return;
        }
        FileDescriptorHandle want = last != null && last.isOpen() ? last : null;
        if (want == pinned) {
            return; // the last file was closed and nothing is pinned
        }
        if (want != null) {
            try {
                want.acquire();
            } catch (IllegalStateException closedMeanwhile) {
                want = null;
            }
        }
        unpin();
        pinned = want;
    }

    /**
     * Lets go of the pin before the owner thread sleeps, so that a file closed
     * meanwhile closes its descriptor at once; the next batch pins again. Only
     * with nothing prepared.
     */
    public void dropPin() {
        if (preparedCount == 0) {
            unpin();
            lastFile = null;
        }
    }

    /** At teardown, after io_destroy: every descriptor use and buffer goes. */
    public void releaseAll() {
        abortPreparedFrom(0);
        unpin();
        lastFile = null;
        Arrays.fill(buffers, null);
        memory.releaseAll();
    }

    private void unpin() {
        FileDescriptorHandle old = pinned;
        pinned = null;
        pinAdopted = false;
        if (old != null) {
            old.release();
        }
    }

    private void releaseDescriptors(int slot) {
        FileDescriptorHandle file = files[slot];
        if (file != null) {
            files[slot] = null;
            file.release();
        }
        FileDescriptorHandle notify = notifyFds[slot];
        if (notify != null) {
            notifyFds[slot] = null;
            notify.release();
        }
    }
}
