/**
 * panaio: Linux native AIO for Java, over the Foreign Function &amp; Memory API.
 *
 * <p>Only {@code dev.panaio} is exported. The generated ABI
 * ({@code dev.panaio.internal.gen.*}), the system call layer
 * ({@code dev.panaio.internal.sys}) and the ring protocol
 * ({@code dev.panaio.internal.ring}) are internal.
 *
 * <p>Run with {@code --enable-native-access=dev.panaio} on the module path.
 */
module dev.panaio {
    requires jdk.unsupported; // com.sun.nio.file.ExtendedOpenOption.DIRECT

    exports dev.panaio;
}
