package dev.panaio.testing.child;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

/**
 * An application that knows nothing of panaio: it writes, reads and lists
 * files in the empty directory {@code args[0]} through the JDK's own entry
 * points, and prints the classes it was handed ({@code provider=},
 * {@code fileChannel=}, {@code byteChannel=}, {@code asyncChannel=}) and what
 * it computed ({@code result.*=}, the same on any provider). It prints
 * {@code opening=} just before its first open, so that a class-loading log
 * shows what the JVM loaded until then.
 */
public final class RunOnDefaultProvider {
    private RunOnDefaultProvider() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        System.out.println("provider=" + FileSystems.getDefault().provider().getClass().getName());
        System.out.println("exists=" + Files.isDirectory(dir));
        System.out.println("opening=" + dir.getFileName());
        System.out.flush();

        Path data = dir.resolve("data.bin");
        byte[] written = new byte[256 * 1024];
        for (int i = 0; i < written.length; i++) {
            written[i] = (byte) (i * 31 + (i >>> 9));
        }
        try (FileChannel channel = FileChannel.open(data, CREATE_NEW, WRITE, READ)) {
            System.out.println("fileChannel=" + channel.getClass().getName());
            for (int chunk = 3; chunk >= 0; chunk--) { // out of order, positional
                channel.write(ByteBuffer.wrap(written, chunk * 65536, 65536), chunk * 65536L);
            }
            channel.force(true);
            ByteBuffer back = ByteBuffer.allocate(written.length);
            while (back.hasRemaining() && channel.read(back, back.position()) >= 0) {
                // read until full
            }
            System.out.println("result.fileChannelRead=" + sha256(back.array()));
            System.out.println("result.fileChannelSize=" + channel.size());
        }

        try (SeekableByteChannel channel = Files.newByteChannel(data)) {
            System.out.println("byteChannel=" + channel.getClass().getName());
            channel.position(1000);
            ByteBuffer tail = ByteBuffer.allocateDirect(written.length);
            while (channel.read(tail) >= 0) {
                // read to the end of the file
            }
            tail.flip();
            byte[] bytes = new byte[tail.remaining()];
            tail.get(bytes);
            System.out.println("result.byteChannelRead=" + sha256(bytes));
        }

        try (AsynchronousFileChannel channel = AsynchronousFileChannel.open(data, READ)) {
            System.out.println("asyncChannel=" + channel.getClass().getName());
            ByteBuffer block = ByteBuffer.allocate(4096);
            int n = channel.read(block, 8192).get();
            System.out.println("result.asyncRead=" + n + " " + sha256(block.array()));
        }

        Path text = dir.resolve("sub").resolve("notes.txt");
        Files.createDirectories(text.getParent());
        Files.writeString(text, "one\ntwo\nthree\n");
        System.out.println("result.lines=" + Files.readAllLines(text, StandardCharsets.UTF_8));
        System.out.println("result.readAllBytes=" + sha256(Files.readAllBytes(data)));
        Files.copy(text, dir.resolve("copy.txt"));
        try (Stream<Path> tree = Files.walk(dir)) {
            List<String> names = tree.map(p -> dir.relativize(p).toString()).sorted().toList();
            System.out.println("result.tree=" + names);
        }
        System.out.println("result.sameFile=" + Files.isSameFile(text, Path.of(text.toString())));
        System.out.println("result.toFile=" + text.toFile().toPath().equals(text));
    }

    private static String sha256(byte[] bytes) throws NoSuchAlgorithmException, IOException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
