package dev.panaio;

/**
 * {@code io_submit} rejected one request of a batch.
 *
 * <p>The kernel accepts a batch in order and stops at the first request it
 * rejects. So, of a batch of n prepared requests: the first
 * {@link #accepted()} are in flight and will complete as usual; the request
 * at {@link #failedIndex()} (its tag is {@link #failedTag()}) was rejected
 * with {@link #errno()}; the rest, {@link #unsubmittedTags()}, were never
 * given to the kernel and are handed back. Neither the rejected request nor
 * the handed-back ones will produce a completion: prepare them again to retry.
 */
public final class SubmitException extends AioException {
    private static final long serialVersionUID = 1L;

    /** Requests of the batch in flight. */
    private final int accepted;
    /** The tag of the rejected request. */
    private final long failedTag;
    /** Tags of the requests after the rejected one. */
    private final long[] unsubmittedTags;

    SubmitException(String message, int errno, int accepted, long failedTag, long[] unsubmittedTags) {
        super(message, "io_submit", errno);
        this.accepted = accepted;
        this.failedTag = failedTag;
        this.unsubmittedTags = unsubmittedTags;
    }

    /**
     * How many requests of the batch, from its start, are in flight.
     *
     * @return the number accepted by io_submit
     */
    public int accepted() {
        return accepted;
    }

    /**
     * Index in the batch (in prepare order) of the rejected request.
     *
     * @return the index, equal to {@link #accepted()}
     */
    public int failedIndex() {
        return accepted;
    }

    /**
     * The tag of the rejected request.
     *
     * @return its tag
     */
    public long failedTag() {
        return failedTag;
    }

    /**
     * Tags of the requests after the rejected one; none of them was submitted.
     *
     * @return a copy of the tags, in prepare order
     */
    public long[] unsubmittedTags() {
        return unsubmittedTags.clone();
    }
}
