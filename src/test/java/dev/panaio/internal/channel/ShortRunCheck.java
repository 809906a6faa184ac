package dev.panaio.internal.channel;

import dev.panaio.AioFile;
import dev.panaio.RequestOptions;
import dev.panaio.internal.access.SharedSecrets;
import dev.panaio.internal.engine.Request;
import dev.panaio.internal.stats.SharedCounters;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * Run in a fresh JVM by {@link WriteQueueTest}: limits the process's file
 * size to 10,000 bytes ({@code setrlimit(RLIMIT_FSIZE)}; the JVM ignores the
 * SIGXFSZ that comes with it), queues four contiguous 4 KiB writes from offset
 * 0 and drains them: one pwritev2 of all four, which the kernel cuts at the
 * limit. Prints {@code results=[...]}, a count or the errno name of each.
 *
 * <p>Arguments: {@code path}.
 */
public final class ShortRunCheck {
    private static final int RLIMIT_FSIZE = 1;

    @SuppressWarnings("restricted")
    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle setrlimit = linker.downcallHandle(linker.defaultLookup().find("setrlimit").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment limit = arena.allocate(16);
            limit.set(ValueLayout.JAVA_LONG, 0, 10_000);
            limit.set(ValueLayout.JAVA_LONG, 8, 10_000);
            if ((int) setrlimit.invokeExact(RLIMIT_FSIZE, limit) != 0) {
                throw new IllegalStateException("setrlimit failed");
            }
        }
        List<Runnable> pool = new ArrayList<>();
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        try (AioFile file = AioFile.open(Path.of(args[0]), CREATE, READ, WRITE)) {
            WriteQueue queue = new WriteQueue(pool::add, new SharedCounters(),
                    new BufferedTransfer(SharedSecrets.fileAccess().handle(file)), new KernelRequests());
            for (int i = 0; i < 4; i++) {
                var op = new ChannelCompletion.ToFuture();
                op.request = Request.write(file, Arena.ofAuto().allocate(4096), i * 4096L, "pwritev2",
                        RequestOptions.NONE); // as FileIo sets it: an error names it
                queue.add(op, op.request, 0, 0);
                results.add(op.future());
            }
            pool.removeFirst().run();
            List<String> seen = new ArrayList<>();
            for (CompletableFuture<Integer> result : results) {
                try {
                    seen.add(Integer.toString(result.get()));
                } catch (ExecutionException e) {
                    String message = String.valueOf(e.getCause().getMessage());
                    seen.add(message.contains("EFBIG") ? "EFBIG" : message);
                }
            }
            System.out.println("results=" + seen + " tasksLeft=" + pool.size());
        }
    }
}
