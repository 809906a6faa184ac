package dev.panaio.testing.child;

import dev.panaio.AioContext;
import dev.panaio.AioLimitException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Opens contexts of {@code args[0]} events each until io_setup says the
 * system-wide budget (fs.aio-max-nr) is used up, prints what the
 * {@link AioLimitException} said as {@code key=value} lines, closes every
 * context and exits 0. Exits 3 if no limit was met. Runs in its own JVM,
 * which gives the whole budget back when it ends, however it ends.
 */
public final class ExhaustAioBudget {
    private ExhaustAioBudget() {
    }

    public static void main(String[] args) throws IOException {
        int capacity = Integer.parseInt(args[0]);
        long maxNr = Long.parseLong(Files.readAllLines(Path.of("/proc/sys/fs/aio-max-nr")).get(0).trim());
        long attempts = maxNr / capacity + 2; // one more than can fit, whatever others hold
        List<AioContext> contexts = new ArrayList<>();
        int exit = 3;
        try {
            for (long i = 0; i < attempts; i++) {
                contexts.add(AioContext.open(capacity));
            }
            System.out.println("outcome=all " + attempts + " contexts opened");
        } catch (AioLimitException e) {
            System.out.println("opened=" + contexts.size());
            System.out.println("message=" + e.getMessage());
            System.out.println("call=" + e.call());
            System.out.println("errnoName=" + e.errnoName());
            System.out.println("aioNr=" + e.aioNr());
            System.out.println("aioMaxNr=" + e.aioMaxNr());
            exit = 0;
        } finally {
            for (AioContext context : contexts) {
                context.close();
            }
        }
        System.out.flush();
        System.exit(exit);
    }
}
