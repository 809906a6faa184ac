package dev.panaio;

/**
 * Receives completions from {@link AioContext#reap} and {@link AioContext#await}.
 *
 * <p>Called on the reaping thread, once per completed request, with no
 * allocation on panaio's side: keep the handler short and allocation-free to
 * keep the whole path garbage-free. A handler may prepare and submit new
 * requests on the same context. If it throws, reaping stops and the
 * exception propagates; completions already handed over, including the one
 * that threw, are not delivered again, and the rest stay queued for the next
 * reap.
 */
@FunctionalInterface
public interface CompletionConsumer {
    /**
     * Receives one completion.
     *
     * @param tag    the tag given when the request was prepared
     * @param result bytes transferred (reads and writes), 0 (fsync), the ready events (poll), or
     *               {@code -errno} on failure, such as {@code -EINVAL} for misaligned direct I/O
     */
    void onCompletion(long tag, long result);
}
