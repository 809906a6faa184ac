package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.Blocks;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLongArray;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * One {@link StressTest} file of self-checking blocks, with the version each block must hold: set by the
 * block's owner when its write completes.
 */
final class StressFile {
    static final int BLOCKS = 512;
    private static final int BLOCK = Blocks.SIZE;

    final Path path;
    final boolean direct;
    final AtomicLongArray versions = new AtomicLongArray(BLOCKS);

    private StressFile(Path path, boolean direct) {
        this.path = path;
        this.direct = direct;
    }

    /** Writes version 0 of every block to {@code dir/name} with the JDK's FileChannel. */
    static StressFile create(Path dir, String name, boolean direct) throws IOException {
        Path path = dir.resolve(name);
        try (FileChannel channel = FileChannel.open(path, CREATE, WRITE)) {
            ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
            for (int b = 0; b < BLOCKS; b++) {
                Blocks.fill(block.clear(), b, 0);
                channel.write(block.clear(), (long) b * BLOCK);
            }
            channel.force(true);
        }
        return new StressFile(path, direct);
    }

    /** Blocks owned by worker {@code w} of {@code n}. */
    int[] ownedBy(int w, int n) {
        int[] owned = new int[(BLOCKS - w + n - 1) / n];
        for (int i = 0; i < owned.length; i++) {
            owned[i] = w + i * n;
        }
        return owned;
    }

    /** Reads every block back with the JDK's own FileChannel, independently of panaio. */
    void verify(Queue<String> problems) throws IOException {
        try (FileChannel channel = FileChannel.open(path, READ); Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(BLOCK);
            ByteBuffer view = block.asByteBuffer();
            for (int b = 0; b < BLOCKS; b++) {
                view.clear();
                while (view.hasRemaining()) {
                    if (channel.read(view, (long) b * BLOCK + view.position()) < 0) {
                        throw new AssertionError(this + " ends inside block " + b);
                    }
                }
                try {
                    Blocks.verify(block, b, versions.get(b));
                } catch (AssertionError e) {
                    problems.add(this + ": " + e.getMessage());
                }
            }
        }
    }

    /** The options panaio's channels open this file with. */
    Set<OpenOption> options() {
        return direct ? Set.of(READ, WRITE, ExtendedOpenOption.DIRECT) : Set.of(READ, WRITE);
    }

    static AioFile[] openAioFiles(StressFile[] files) throws IOException {
        AioFile[] opened = new AioFile[files.length];
        for (int f = 0; f < files.length; f++) {
            opened[f] = files[f].direct
                    ? AioFile.open(files[f].path, READ, WRITE, ExtendedOpenOption.DIRECT)
                    : AioFile.open(files[f].path, READ, WRITE);
        }
        return opened;
    }

    @Override
    public String toString() {
        return path.getFileName() + (direct ? " (direct)" : " (buffered)");
    }
}
