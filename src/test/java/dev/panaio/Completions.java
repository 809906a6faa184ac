package dev.panaio;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Collects completions as tag -> results, so tests can see duplicates. Used by the AioContext tests. */
final class Completions implements CompletionConsumer {
    final Map<Long, List<Long>> byTag = new HashMap<>();
    int count;

    @Override
    public void onCompletion(long tag, long result) {
        byTag.computeIfAbsent(tag, t -> new ArrayList<>()).add(result);
        count++;
    }

    long only(long tag) {
        assertThat(byTag.get(tag)).as("completions of tag %d", tag).hasSize(1);
        return byTag.get(tag).get(0);
    }

    /** Awaits every request in flight on {@code aio}, ten seconds at most per completion. */
    static Completions awaitAll(AioContext aio) {
        Completions done = new Completions();
        while (aio.inFlight() > 0) {
            aio.await(1, 10, TimeUnit.SECONDS, done);
        }
        return done;
    }
}
