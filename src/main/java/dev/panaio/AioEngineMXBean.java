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
    /**
     * The engine's name, as in its ObjectName.
     *
     * @return the engine's name, as in its ObjectName
     */
    String getName();

    /**
     * Engine threads, each with its own kernel context.
     *
     * @return engine threads, each with its own kernel context
     */
    int getThreads();

    /**
     * Requests the kernel can hold at once, over all engine threads.
     *
     * @return requests the kernel can hold at once, over all engine threads
     */
    int getCapacity();

    /**
     * The engine's {@link AioEngineStats#requestsSubmitted()}.
     *
     * @return the current value of {@link AioEngineStats#requestsSubmitted()}
     */
    long getRequestsSubmitted();

    /**
     * The engine's {@link AioEngineStats#requestsCompleted()}.
     *
     * @return the current value of {@link AioEngineStats#requestsCompleted()}
     */
    long getRequestsCompleted();

    /**
     * The engine's {@link AioEngineStats#inFlight()}.
     *
     * @return the current value of {@link AioEngineStats#inFlight()}
     */
    long getInFlight();

    /**
     * The engine's {@link AioEngineStats#queued()}.
     *
     * @return the current value of {@link AioEngineStats#queued()}
     */
    long getQueued();

    /**
     * The engine's {@link AioEngineStats#ioSubmitCalls()}.
     *
     * @return the current value of {@link AioEngineStats#ioSubmitCalls()}
     */
    long getIoSubmitCalls();

    /**
     * The engine's {@link AioEngineStats#meanBatch()}.
     *
     * @return the current value of {@link AioEngineStats#meanBatch()}
     */
    double getMeanBatch();

    /**
     * The engine's {@link AioEngineStats#inlineHits()}.
     *
     * @return the current value of {@link AioEngineStats#inlineHits()}
     */
    long getInlineHits();

    /**
     * The engine's {@link AioEngineStats#inlineMisses()}.
     *
     * @return the current value of {@link AioEngineStats#inlineMisses()}
     */
    long getInlineMisses();

    /**
     * The engine's {@link AioEngineStats#poolRuns()}.
     *
     * @return the current value of {@link AioEngineStats#poolRuns()}
     */
    long getPoolRuns();

    /**
     * The engine's {@link AioEngineStats#bounceCopiedBytes()}.
     *
     * @return the current value of {@link AioEngineStats#bounceCopiedBytes()}
     */
    long getBounceCopiedBytes();

    /**
     * The engine's {@link AioEngineStats#backpressureWaits()}.
     *
     * @return the current value of {@link AioEngineStats#backpressureWaits()}
     */
    long getBackpressureWaits();

    /**
     * The engine's {@link AioEngineStats#eagainRetries()}.
     *
     * @return the current value of {@link AioEngineStats#eagainRetries()}
     */
    long getEagainRetries();

    /**
     * The engine's {@link AioEngineStats#partialSubmits()}.
     *
     * @return the current value of {@link AioEngineStats#partialSubmits()}
     */
    long getPartialSubmits();
}
