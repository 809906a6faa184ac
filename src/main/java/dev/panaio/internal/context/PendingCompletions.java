package dev.panaio.internal.context;

import dev.panaio.CompletionConsumer;

/**
 * Completions taken from the kernel but not yet delivered, in order: those
 * found while submit() made room, and those io_getevents returned (queued
 * first, so that neither a throwing handler nor a nested call can lose or
 * overwrite the ones after it). A ring buffer of two parallel arrays, so that
 * queueing allocates nothing.
 *
 * <p>Not thread-safe: used by the context's owner thread.
 */
public final class PendingCompletions {
    private long[] tags;
    private long[] results;
    private int head;
    private int count;

    /** An empty queue with room for {@code capacity} completions before it grows. */
    public PendingCompletions(int capacity) {
        this.tags = new long[capacity];
        this.results = new long[capacity];
    }

    /** Completions queued. */
    public int count() {
        return count;
    }

    /** Queues one completion. */
    public void add(long tag, long result) {
        if (count == tags.length) {
            grow();
        }
        int tail = head + count;
        tail = tail >= tags.length ? tail - tags.length : tail;
        tags[tail] = tag;
        results[tail] = result;
        count++;
    }

    /**
     * Delivers up to {@code max} queued completions, oldest first. Each is
     * dequeued before its handler runs, so a nested drain never sees it again.
     *
     * @return the number delivered
     */
    public int drain(CompletionConsumer consumer, int max) {
        int delivered = 0;
        while (count > 0 && delivered < max) {
            long tag = tags[head];
            long result = results[head];
            head = head + 1 == tags.length ? 0 : head + 1;
            count--;
            delivered++;
            consumer.onCompletion(tag, result);
        }
        return delivered;
    }

    /** Only when submit() is called again and again without reaping: the queue outgrows its first size. */
    private void grow() {
        int length = tags.length;
        long[] newTags = new long[length * 2];
        long[] newResults = new long[length * 2];
        for (int i = 0; i < count; i++) {
            int from = (head + i) % length;
            newTags[i] = tags[from];
            newResults[i] = results[from];
        }
        tags = newTags;
        results = newResults;
        head = 0;
    }
}
