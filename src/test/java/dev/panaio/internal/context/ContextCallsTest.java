package dev.panaio.internal.context;

import dev.panaio.AioContext;
import dev.panaio.EventFd;
import dev.panaio.internal.access.SharedSecrets;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The seam itself (the kernel's calls unless a test replaced them, for the
 * contexts opened meanwhile only), and what it lets a test observe that the
 * kernel hides: the order of a context's teardown.
 */
class ContextCallsTest {
    private static final int POLLIN = 0x1;

    @Test
    void shouldMakeTheKernelsCallsUnlessATestReplacedThemForTheOpen() throws IOException {
        assertThat(ContextCalls.forNewContext()).isSameAs(ContextCalls.KERNEL);
        ScriptedCalls calls = new ScriptedCalls();
        try (AioContext scripted = calls.open(1)) {
            assertThat(ContextCalls.forNewContext()).as("the replacement lasts for one open")
                    .isSameAs(ContextCalls.KERNEL);
            assertThat(calls.calls("io_submit")).as("the context's own wake-up poll").hasSize(1);
        }
        assertThat(calls.calls("io_destroy")).hasSize(1);
    }

    /** The kernel resources of an AioContext, from the private field of its parts. */
    private static KernelContext kernelOf(AioContext context) {
        try {
            Field field = GuardedContext.class.getDeclaredField("kernel");
            field.setAccessible(true);
            return (KernelContext) field.get(SharedSecrets.contextAccess().parts(context));
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("GuardedContext has no field kernel", e);
        }
    }

    @Test
    void shouldCloseTheRingViewBeforeIoDestroyAndReleaseMemoryOnlyAfter() throws IOException {
        ScriptedCalls calls = new ScriptedCalls();
        List<String> seenAtDestroy = new ArrayList<>();
        AioContext aio = calls.open(4);
        assertThat(aio.reapsFromRing()).as("a ring view to close").isTrue();
        Arena ringView = kernelOf(aio).ringArena();
        Arena memory = kernelOf(aio).arena();
        calls.destroy = (errno, ctx) -> {
            seenAtDestroy.add("ring view " + (ringView.scope().isAlive() ? "open" : "closed"));
            seenAtDestroy.add("memory " + (memory.scope().isAlive() ? "held" : "released"));
            return ContextCalls.KERNEL.ioDestroy(errno, ctx);
        };
        try (EventFd never = EventFd.open()) {
            aio.preparePoll(never, POLLIN, 1); // in flight at close: io_destroy must wait for it (it cancels)
            aio.submit();

            aio.close();
        }

        assertThat(seenAtDestroy).containsExactly("ring view closed", "memory held");
        assertThat(memory.scope().isAlive()).as("released after io_destroy").isFalse();
        assertThat(calls.calls("io_destroy")).hasSize(1);
    }
}
