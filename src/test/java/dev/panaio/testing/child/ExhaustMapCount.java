package dev.panaio.testing.child;

import dev.panaio.AioContext;
import dev.panaio.AioException;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Brings this process to its vm.max_map_count (splitting one PROT_NONE
 * reservation into alternating PROT_READ and PROT_NONE pages until mprotect
 * says ENOMEM, then single-page mmaps until mmap does), opens a context,
 * gives most mappings back, and prints what
 * happened as {@code key=value} lines. Exits 3 if the limit was never met.
 * In its own JVM: no other code may need a mapping meanwhile.
 */
public final class ExhaustMapCount {
    private ExhaustMapCount() {
    }

    private static final int PROT_NONE = 0;
    private static final int PROT_READ = 1;
    private static final int MAP_PRIVATE_ANONYMOUS_NORESERVE = 0x02 | 0x20 | 0x4000;
    private static final long PAGE = 4096;

    @SuppressWarnings("restricted")
    public static void main(String[] args) throws Throwable {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        MethodHandle mprotect = linker.downcallHandle(libc.find("mprotect").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        long maxMapCount = Long.parseLong(java.nio.file.Files.readAllLines(
                java.nio.file.Path.of("/proc/sys/vm/max_map_count")).get(0).trim());
        long pages = 2 * maxMapCount + 2;
        MemorySegment region = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, pages * PAGE, PROT_NONE,
                MAP_PRIVATE_ANONYMOUS_NORESERVE, -1, 0L);
        if (region.address() == -1L) {
            System.out.println("outcome=mmap failed");
            System.exit(3);
        }
        // Warm up what the failure path runs, so that it needs no new mapping at the limit.
        AioContext.open(1).close();
        String warm = dev.panaio.internal.sys.ErrnoExceptions.ioSetup(2, 12).getMessage(); // ENOMEM's message
        if (warm.isEmpty()) {
            System.exit(4);
        }
        String outcome = "the limit was never met";
        AioException failure = null;
        for (long page = 1; page < pages; page += 2) {
            int ret = (int) mprotect.invokeExact(MemorySegment.ofAddress(region.address() + page * PAGE), PAGE,
                    PROT_READ);
            if (ret != 0) {
                // A split stops at the limit, but mmap still takes one mapping past it: take those too, with
                // alternating protections so that neighbours never merge.
                for (int i = 0; i < 1000; i++) {
                    MemorySegment extra = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, PAGE,
                            i % 2 == 0 ? PROT_READ : PROT_NONE, MAP_PRIVATE_ANONYMOUS_NORESERVE, -1, 0L);
                    if (extra.address() == -1L) {
                        break;
                    }
                }
                try {
                    AioContext.open(1).close();
                    outcome = "opened at the limit";
                } catch (AioException e) {
                    failure = e;
                    outcome = "failed";
                }
                break;
            }
        }
        int unmapped = (int) munmap.invokeExact(region, pages * PAGE);
        System.out.println("outcome=" + outcome);
        System.out.println("unmapped=" + unmapped);
        if (failure != null) {
            System.out.println("type=" + failure.getClass().getName());
            System.out.println("errnoName=" + failure.errnoName());
            System.out.println("message=" + failure.getMessage());
        }
        System.out.flush();
        System.exit(failure != null ? 0 : 3);
    }
}
