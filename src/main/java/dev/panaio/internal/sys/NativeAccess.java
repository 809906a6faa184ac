package dev.panaio.internal.sys;

/**
 * Checks, at each public entry point that reaches native code, that the JVM
 * lets panaio's module make downcalls, so that the failure names the exact
 * flag to add instead of surfacing later as a warning or an
 * {@code IllegalCallerException} from deep inside the linker.
 */
public final class NativeAccess {
    private NativeAccess() {
    }

    private static final Module MODULE = NativeAccess.class.getModule();

    /**
     * @throws IllegalCallerException naming the {@code --enable-native-access} flag, when native access is not enabled
     */
    public static void ensureEnabled() {
        if (!MODULE.isNativeAccessEnabled()) {
            String flag = MODULE.isNamed() ? MODULE.getName() : "ALL-UNNAMED";
            throw new IllegalCallerException("panaio calls the kernel through the Foreign Function & Memory API, "
                    + "and native access is not enabled for " + MODULE + ": run java with --enable-native-access="
                    + flag + (MODULE.isNamed() ? "" : " (or put 'Enable-Native-Access: ALL-UNNAMED' in the "
                    + "manifest of an executable jar)"));
        }
    }
}
