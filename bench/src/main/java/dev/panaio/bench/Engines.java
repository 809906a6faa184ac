package dev.panaio.bench;

import java.util.List;

/**
 * Every engine, in the order runs and tables use. To add one, write its class
 * (usually a few lines over {@link ThreadedChannelEngine} or
 * {@link AsyncChannelEngine}) and list it here.
 */
public final class Engines {
    private Engines() {
    }

    private static final List<Engine> ALL = List.of(
            new PanaioEngine(),
            PanaioEngine.groupCommit(),
            new PanaioAsyncEngine(),
            PanaioAsyncEngine.inline(),
            new PanaioVirtualThreadEngine(),
            new FileChannelEngine(),
            new FileChannelGroupCommitEngine(),
            new VirtualThreadFileChannelEngine(),
            new JdkAsyncFileChannelEngine(),
            FioEngine.libaio(),
            FioEngine.libaioDsync(),
            FioEngine.ioUring(),
            new FfmLoopEngine(),
            CLoopEngine.loop(),
            CLoopEngine.handoff(),
            CLoopEngine.wake());

    /** Every engine. */
    public static List<Engine> all() {
        return ALL;
    }

    /** The names of every engine. */
    public static List<String> names() {
        return ALL.stream().map(Engine::name).toList();
    }

    /** The engine called {@code name}, or null. */
    public static Engine byName(String name) {
        return ALL.stream().filter(e -> e.name().equals(name)).findFirst().orElse(null);
    }
}
