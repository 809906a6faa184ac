/**
 * panaio: Linux native AIO for Java, over the Foreign Function &amp; Memory API.
 *
 * <p>Only {@code dev.panaio}, the API, is exported. Its implementation lives
 * in {@code dev.panaio.internal.*}, one package per layer: the generated ABI
 * ({@code gen.aio_abi}), the system calls ({@code sys}), the ring protocol
 * ({@code ring}), the parts of a context ({@code context}), the engine
 * ({@code engine}), the channels' I/O routing ({@code channel}), and the one
 * bridge to non-public members of the API types ({@code access}).
 *
 * <p>Run with {@code --enable-native-access=dev.panaio} on the module path.
 */
module dev.panaio {
    // Transitive: the API's own examples name com.sun.nio.file.ExtendedOpenOption.DIRECT, so a modular
    // consumer reads jdk.unsupported through panaio without requiring it itself.
    requires transitive jdk.unsupported;
    // AioEngine's MXBean: part of every JDK, so panaio still depends on nothing but the JDK.
    requires java.management;
    // The channels' JFR events (dev.panaio.FileRead / FileWrite) and the engine's: jdk.jfr is in every JDK.
    requires jdk.jfr;

    exports dev.panaio;
}
