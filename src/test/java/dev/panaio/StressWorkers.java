package dev.panaio;

import dev.panaio.testing.Blocks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The {@link StressTest} workers, one method per level of panaio. Each runs on its own thread until
 * {@code deadline}, on the blocks of its files that {@link StressFile#ownedBy} gives it, with at most one
 * request in flight per block, and records every request in the level's {@link StressLedger}.
 */
final class StressWorkers {
    /** How long anything may take past the deadline before it counts as stuck. */
    static final long GUARD_SECONDS = 60;
    private static final int BLOCK = Blocks.SIZE;

    private StressWorkers() {
    }


    // --------------------------------------------------- level 1: AioContext

    private enum Kind { READ, WRITE, SYNC }

    private record ContextRequest(Kind kind, int file, int block, long version, MemorySegment buffer) {
    }

    static void runContext(long seed, StressLedger ledger, StressFile[] files, AioFile[] aioFiles, int worker,
                           int workers, long deadline) throws Exception {
        SplittableRandom random = new SplittableRandom(seed ^ 0x1000 + worker);
        int depth = 24;
        int[][] owned = new int[files.length][];
        for (int f = 0; f < files.length; f++) {
            owned[f] = files[f].ownedBy(worker, workers);
        }
        RequestOptions prioritised = RequestOptions.NONE.withPriority(
                new IoPriority(IoPriority.IoClass.BEST_EFFORT, 4));
        try (AioContext aio = AioContext.open(32); Arena arena = Arena.ofShared()) {
            // One buffer per owned block: at most one request per block is in flight.
            MemorySegment[][] buffers = new MemorySegment[files.length][];
            boolean[][] busy = new boolean[files.length][];
            for (int f = 0; f < files.length; f++) {
                buffers[f] = new MemorySegment[owned[f].length];
                busy[f] = new boolean[owned[f].length];
                for (int i = 0; i < owned[f].length; i++) {
                    buffers[f][i] = arena.allocate(BLOCK, BLOCK);
                }
            }
            Map<Long, ContextRequest> pending = new HashMap<>();
            Map<Long, Integer> slotOf = new HashMap<>();
            CompletionConsumer onCompletion = (tag, result) -> {
                ContextRequest request = pending.remove(tag);
                ledger.complete(tag);
                if (request == null) {
                    return;
                }
                Integer slot = slotOf.remove(tag);
                if (slot != null) {
                    busy[request.file][slot] = false;
                }
                check(ledger, files[request.file], request.kind, request.block, request.version, request.buffer,
                        result);
            };
            boolean vectoredAllowed = !aioFiles[0].isDirect() || aioFiles[0].alignment().offset() <= BLOCK / 2;
            while (System.nanoTime() < deadline) {
                int batch = 1 + random.nextInt(8);
                for (int n = 0; n < batch && pending.size() < depth; n++) {
                    int f = random.nextInt(files.length);
                    int roll = random.nextInt(100);
                    if (roll < 6) {
                        long id = ledger.submit();
                        pending.put(id, new ContextRequest(Kind.SYNC, f, -1, 0, null));
                        if (roll < 3) {
                            aio.prepareFsync(aioFiles[f], id);
                        } else {
                            aio.prepareFdatasync(aioFiles[f], id);
                        }
                        ledger.syncs.incrementAndGet();
                        continue;
                    }
                    int slot = random.nextInt(owned[f].length);
                    if (busy[f][slot]) {
                        continue;
                    }
                    int block = owned[f][slot];
                    MemorySegment buffer = buffers[f][slot];
                    long position = (long) block * BLOCK;
                    RequestOptions options = random.nextInt(4) == 0 ? prioritised : RequestOptions.NONE;
                    long id = ledger.submit();
                    busy[f][slot] = true;
                    slotOf.put(id, slot);
                    if (roll < 53) {
                        buffer.fill((byte) 0);
                        pending.put(id, new ContextRequest(Kind.READ, f, block, 0, buffer));
                        if (vectoredAllowed && random.nextInt(4) == 0) {
                            MemorySegment[] halves = {buffer.asSlice(0, BLOCK / 2), buffer.asSlice(BLOCK / 2)};
                            aio.prepareReadVectored(aioFiles[f], halves, position, id, options);
                        } else {
                            aio.prepareRead(aioFiles[f], buffer, position, id, options);
                        }
                        ledger.reads.incrementAndGet();
                    } else {
                        long version = files[f].versions.get(block) + 1;
                        Blocks.fill(buffer, block, version);
                        pending.put(id, new ContextRequest(Kind.WRITE, f, block, version, buffer));
                        aio.prepareWrite(aioFiles[f], buffer, position, id, options);
                        ledger.writes.incrementAndGet();
                    }
                }
                if (aio.prepared() > 0) {
                    aio.submit();
                }
                if (aio.reap(onCompletion) == 0 && aio.inFlight() > 0) {
                    aio.await(1, 50, TimeUnit.MILLISECONDS, onCompletion);
                }
            }
            while (aio.inFlight() > 0) {
                if (aio.await(1, GUARD_SECONDS, TimeUnit.SECONDS, onCompletion) == 0) {
                    ledger.problem(aio.inFlight() + " requests never completed");
                    break;
                }
            }
            if (!pending.isEmpty()) {
                ledger.problem("no completion for tags " + pending.keySet());
            }
        }
    }

    /** Checks a completion against what the request expected, and records a completed write's version. */
    private static void check(StressLedger ledger, StressFile file, Kind kind, int block, long version,
                              MemorySegment buffer, long result) {
        switch (kind) {
            case READ -> {
                if (result != BLOCK) {
                    ledger.problem("read of block " + block + " of " + file + " returned " + result);
                    return;
                }
                try {
                    Blocks.verify(buffer, block, file.versions.get(block));
                } catch (AssertionError e) {
                    ledger.problem("read of " + file + ": " + e.getMessage());
                }
            }
            case WRITE -> {
                if (result != BLOCK) {
                    ledger.problem("write of block " + block + " of " + file + " returned " + result);
                    return;
                }
                file.versions.set(block, version);
            }
            case SYNC -> {
                if (result != 0) {
                    ledger.problem("fsync of " + file + " returned " + result);
                }
            }
        }
    }

    // ------------------------------------------------ level 2: AioEngine futures

    static void runEngine(long seed, StressLedger ledger, AioEngine engine, StressFile[] files, AioFile[] aioFiles,
                          int worker, int workers, long deadline) throws Exception {
        SplittableRandom random = new SplittableRandom(seed ^ 0x2000 + worker);
        int[][] owned = new int[files.length][];
        for (int f = 0; f < files.length; f++) {
            owned[f] = files[f].ownedBy(worker, workers);
        }
        try (Arena arena = Arena.ofShared()) {
            int maxBatch = 4;
            MemorySegment[] buffers = new MemorySegment[maxBatch];
            for (int i = 0; i < maxBatch; i++) {
                buffers[i] = arena.allocate(BLOCK, BLOCK);
            }
            List<CompletableFuture<Integer>> futures = new ArrayList<>();
            List<long[]> requests = new ArrayList<>(); // {kind, file, block, version, buffer index}
            while (System.nanoTime() < deadline) {
                futures.clear();
                requests.clear();
                Set<Long> chosen = new HashSet<>();
                int batch = 1 + random.nextInt(maxBatch);
                for (int n = 0; n < batch; n++) {
                    int f = random.nextInt(files.length);
                    int block = owned[f][random.nextInt(owned[f].length)];
                    if (!chosen.add((long) f << 32 | block)) {
                        continue; // one request per block at a time
                    }
                    int roll = random.nextInt(100);
                    long id = ledger.submit();
                    CompletableFuture<Integer> future;
                    Kind kind;
                    long version = 0;
                    if (roll < 6) {
                        kind = Kind.SYNC;
                        future = roll < 3 ? engine.fsync(aioFiles[f]) : engine.fdatasync(aioFiles[f]);
                        ledger.syncs.incrementAndGet();
                    } else if (roll < 53) {
                        kind = Kind.READ;
                        buffers[n].fill((byte) 0);
                        future = engine.read(aioFiles[f], buffers[n], (long) block * BLOCK);
                        ledger.reads.incrementAndGet();
                    } else {
                        kind = Kind.WRITE;
                        version = files[f].versions.get(block) + 1;
                        Blocks.fill(buffers[n], block, version);
                        future = engine.write(aioFiles[f], buffers[n], (long) block * BLOCK);
                        ledger.writes.incrementAndGet();
                    }
                    future.whenComplete((result, error) -> ledger.returned(id));
                    futures.add(future);
                    requests.add(new long[] {kind.ordinal(), f, block, version, n});
                }
                for (int i = 0; i < futures.size(); i++) {
                    long[] r = requests.get(i);
                    int result = futures.get(i).get(GUARD_SECONDS, TimeUnit.SECONDS);
                    check(ledger, files[(int) r[1]], Kind.values()[(int) r[0]], (int) r[2], r[3], buffers[(int) r[4]],
                            result);
                }
            }
        }
    }

    // ------------------------------------------ level 3: AioFileChannel blocking

    static void runChannel(long seed, StressLedger ledger, AioFileChannel[] channels, StressFile[] files, int worker,
                           int workers, long deadline) throws Exception {
        SplittableRandom random = new SplittableRandom(seed ^ 0x3000 + worker);
        int[][] owned = new int[files.length][];
        for (int f = 0; f < files.length; f++) {
            owned[f] = files[f].ownedBy(worker, workers);
        }
        // The zero-copy path, and the two that go through bounce buffers on a direct channel.
        ByteBuffer aligned = ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
        ByteBuffer heap = ByteBuffer.allocate(BLOCK);
        ByteBuffer misaligned = ByteBuffer.allocateDirect(3 * BLOCK).alignedSlice(BLOCK).position(8).slice()
                .limit(BLOCK);
        ByteBuffer[] kinds = {aligned, aligned, aligned, heap, misaligned};
        while (System.nanoTime() < deadline) {
            int f = random.nextInt(files.length);
            int block = owned[f][random.nextInt(owned[f].length)];
            long position = (long) block * BLOCK;
            ByteBuffer buffer = kinds[random.nextInt(kinds.length)];
            MemorySegment view = MemorySegment.ofBuffer(oneBlock(buffer));
            int roll = random.nextInt(100);
            long id = ledger.submit();
            if (roll < 4) {
                channels[f].force(roll < 2);
                ledger.returned(id);
                ledger.syncs.incrementAndGet();
            } else if (roll < 52) {
                view.fill((byte) 0);
                int n = channels[f].read(buffer, position);
                ledger.returned(id);
                ledger.reads.incrementAndGet();
                if (buffer.position() != n) {
                    ledger.problem("read returned " + n + " but advanced the buffer to " + buffer.position());
                }
                check(ledger, files[f], Kind.READ, block, 0, view, n);
            } else {
                long version = files[f].versions.get(block) + 1;
                Blocks.fill(view, block, version);
                int n = channels[f].write(buffer, position);
                ledger.returned(id);
                ledger.writes.incrementAndGet();
                check(ledger, files[f], Kind.WRITE, block, version, view, n);
            }
        }
    }

    /** The buffer reset to one block from its start: aligned slices may be larger. */
    static ByteBuffer oneBlock(ByteBuffer buffer) {
        return buffer.clear().limit(BLOCK);
    }

    // ------------------------------- level 4: AioAsynchronousFileChannel handlers

    private record AsyncRequest(long id, Kind kind, int file, int slot, int block, long version, MemorySegment view) {
    }

    static void runAsync(long seed, StressLedger ledger, AioAsynchronousFileChannel[] channels, StressFile[] files,
                         int worker, int workers, long deadline) throws Exception {
        SplittableRandom random = new SplittableRandom(seed ^ 0x4000 + worker);
        int depth = 16;
        Semaphore permits = new Semaphore(depth);
        int[][] owned = new int[files.length][];
        ByteBuffer[][] buffers = new ByteBuffer[files.length][];
        AtomicIntegerArray[] busy = new AtomicIntegerArray[files.length];
        for (int f = 0; f < files.length; f++) {
            owned[f] = files[f].ownedBy(worker, workers);
            buffers[f] = new ByteBuffer[owned[f].length];
            busy[f] = new AtomicIntegerArray(owned[f].length);
            for (int i = 0; i < owned[f].length; i++) {
                buffers[f][i] = i % 5 == 4
                        ? ByteBuffer.allocate(BLOCK)
                        : ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK);
            }
        }
        var handler = new CompletionHandler<Integer, AsyncRequest>() {
            @Override
            public void completed(Integer result, AsyncRequest request) {
                finish(request, result);
            }

            @Override
            public void failed(Throwable error, AsyncRequest request) {
                ledger.problem(request + " failed: " + error);
                finish(request, Long.MIN_VALUE);
            }

            private void finish(AsyncRequest request, long result) {
                ledger.complete(request.id);
                settle(request, result);
            }

            /** What both paths do once the request is recorded. */
            void settle(AsyncRequest request, long result) {
                if (result != Long.MIN_VALUE) {
                    check(ledger, files[request.file], request.kind, request.block, request.version, request.view,
                            result);
                }
                busy[request.file].set(request.slot, 0);
                permits.release();
            }
        };
        while (System.nanoTime() < deadline) {
            if (!permits.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                continue;
            }
            int f = random.nextInt(files.length);
            int slot = random.nextInt(owned[f].length);
            int roll = random.nextInt(100);
            if (roll < 4) {
                long id = ledger.submit();
                channels[f].force(roll < 2);
                ledger.returned(id);
                ledger.syncs.incrementAndGet();
                permits.release();
                continue;
            }
            if (!busy[f].compareAndSet(slot, 0, 1)) {
                permits.release();
                continue;
            }
            int block = owned[f][slot];
            ByteBuffer buffer = oneBlock(buffers[f][slot]);
            MemorySegment view = MemorySegment.ofBuffer(buffer);
            boolean read = roll < 52;
            long version = read ? 0 : files[f].versions.get(block) + 1;
            if (read) {
                view.fill((byte) 0);
            } else {
                Blocks.fill(view, block, version);
            }
            AsyncRequest request = new AsyncRequest(ledger.submit(), read ? Kind.READ : Kind.WRITE, f, slot, block,
                    version, view);
            (read ? ledger.reads : ledger.writes).incrementAndGet();
            long position = (long) block * BLOCK;
            if (random.nextInt(3) > 0) {
                if (read) {
                    channels[f].read(buffer, position, request, handler);
                } else {
                    channels[f].write(buffer, position, request, handler);
                }
            } else {
                CompletableFuture<Integer> future = read
                        ? channels[f].readAsync(buffer, position)
                        : channels[f].writeAsync(buffer, position);
                future.whenComplete((result, error) -> {
                    ledger.returned(request.id);
                    if (error != null) {
                        ledger.problem(request + " failed: " + error);
                    }
                    handler.settle(request, error != null ? Long.MIN_VALUE : result);
                });
            }
        }
        if (!permits.tryAcquire(depth, GUARD_SECONDS, TimeUnit.SECONDS)) {
            ledger.problem((depth - permits.availablePermits()) + " requests never completed");
        }
    }
}
