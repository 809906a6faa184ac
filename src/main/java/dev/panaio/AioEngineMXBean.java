package dev.panaio;

/**
 * An {@link AioEngine}'s statistics as a platform MXBean, registered while the
 * engine is open as {@code dev.panaio:type=AioEngine,name=<engine name>} (the
 * shared engine's name is {@code shared}), so that JConsole, JMX exporters
 * and APM agents read them without code. Each attribute is the field of the
 * same name of {@link AioEngineStats}.
 *
 * <p>Sealed, as panaio's public interfaces are: read it through the MBean
 * server by attribute name; a client-side {@code JMX.newMXBeanProxy} cannot
 * implement it.
 */
public sealed interface AioEngineMXBean permits dev.panaio.internal.stats.EngineMXBean {
    /** The engine's name, as in its ObjectName. */
    String getName();

    /** Engine threads, each with its own kernel context. */
    int getThreads();

    /** Requests the kernel can hold at once, over all engine threads. */
    int getCapacity();

    /** See {@link AioEngineStats#requestsSubmitted()}. */
    long getRequestsSubmitted();

    /** See {@link AioEngineStats#requestsCompleted()}. */
    long getRequestsCompleted();

    /** See {@link AioEngineStats#inFlight()}. */
    long getInFlight();

    /** See {@link AioEngineStats#queued()}. */
    long getQueued();

    /** See {@link AioEngineStats#ioSubmitCalls()}. */
    long getIoSubmitCalls();

    /** See {@link AioEngineStats#meanBatch()}. */
    double getMeanBatch();

    /** See {@link AioEngineStats#inlineHits()}. */
    long getInlineHits();

    /** See {@link AioEngineStats#inlineMisses()}. */
    long getInlineMisses();

    /** See {@link AioEngineStats#poolRuns()}. */
    long getPoolRuns();

    /** See {@link AioEngineStats#bounceCopiedBytes()}. */
    long getBounceCopiedBytes();

    /** See {@link AioEngineStats#backpressureWaits()}. */
    long getBackpressureWaits();

    /** See {@link AioEngineStats#eagainRetries()}. */
    long getEagainRetries();

    /** See {@link AioEngineStats#partialSubmits()}. */
    long getPartialSubmits();
}
