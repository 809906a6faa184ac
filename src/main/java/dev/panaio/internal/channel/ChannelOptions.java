package dev.panaio.internal.channel;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.PanaioOpenOption;

import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/** The JDK options for the delegate channel, and the AioFile's, parsed from one set. */
public record ChannelOptions(Set<OpenOption> jdkOptions, OpenOption[] aioOptions, boolean append, boolean strict,
                             boolean syncWrites) {
    public static ChannelOptions parse(Set<? extends OpenOption> options) {
        Set<OpenOption> jdk = new HashSet<>();
        Set<OpenOption> aio = new HashSet<>();
        boolean strict = false;
        for (OpenOption option : options) {
            Objects.requireNonNull(option, "option");
            if (option == PanaioOpenOption.STRICT_ALIGNMENT) {
                strict = true;
            } else if (option == ExtendedOpenOption.DIRECT) {
                // The delegate serves metadata, locks, maps and transfers: it uses the page cache.
                aio.add(option);
            } else {
                jdk.add(option);
                if (option == StandardOpenOption.READ || option == StandardOpenOption.WRITE
                        || option == StandardOpenOption.APPEND || option == StandardOpenOption.DSYNC
                        || option == StandardOpenOption.SYNC) {
                    aio.add(option);
                }
            }
        }
        boolean append = options.contains(StandardOpenOption.APPEND);
        boolean sync = options.contains(StandardOpenOption.DSYNC) || options.contains(StandardOpenOption.SYNC);
        return new ChannelOptions(jdk, aio.toArray(OpenOption[]::new), append, strict, sync);
    }
}
