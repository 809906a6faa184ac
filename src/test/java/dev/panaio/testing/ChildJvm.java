package dev.panaio.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test tree in a fresh JVM, in class path mode (panaio
 * in the unnamed module), for behaviour that depends on JVM flags or must not
 * disturb the test JVM: native access, the system-wide AIO budget, which
 * shared libraries get loaded.
 */
public final class ChildJvm {
    private ChildJvm() {
    }

    /** What the child printed and how it exited. */
    public record Outcome(int exitCode, String stdout, String stderr) {
        /** The value of the first stdout line {@code key=value}, or null. */
        public String value(String key) {
            for (String line : stdout.lines().toList()) {
                if (line.startsWith(key + "=")) {
                    return line.substring(key.length() + 1);
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    /**
     * Runs {@code mainClass} with {@code -cp target/classes:target/test-classes}
     * (panaio in the unnamed module), the given JVM options before the class
     * name, and {@code args} after it.
     */
    public static Outcome onClassPath(Class<?> mainClass, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        return onClassPath(mainClass, List.of(), jvmOptions, args);
    }

    /**
     * As {@link #onClassPath(Class, List, String...)}, with {@code libraries}
     * (jars of the test dependencies) after panaio's classes on the class path.
     */
    public static Outcome onClassPath(Class<?> mainClass, List<Path> libraries, List<String> jvmOptions,
                                      String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.add("-cp");
        StringBuilder classPath = new StringBuilder(CLASSES + ":" + TEST_CLASSES);
        for (Path library : libraries) {
            classPath.append(':').append(library.toAbsolutePath());
        }
        command.add(classPath.toString());
        command.addAll(jvmOptions);
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return run(command);
    }

    /**
     * Runs {@code mainClass} as panaio's users do on the module path: module
     * dev.panaio from target/classes, with the test classes patched into it.
     */
    public static Outcome onModulePath(Class<?> mainClass, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.add("--module-path");
        command.add(CLASSES.toString());
        command.add("--patch-module");
        command.add("dev.panaio=" + TEST_CLASSES);
        command.addAll(jvmOptions);
        command.add("-m");
        command.add("dev.panaio/" + mainClass.getName());
        command.addAll(List.of(args));
        return run(command);
    }

    /**
     * Starts {@code mainClass} as {@link #onClassPath(Class, List, String...)}
     * does, without waiting: the caller reads its stdout as it runs (stderr
     * goes to the test's own) and must end it.
     */
    public static Process startOnClassPath(Class<?> mainClass, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(java());
        command.add("-cp");
        command.add(CLASSES + ":" + TEST_CLASSES);
        command.addAll(jvmOptions);
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    private static final Path CLASSES = Path.of("target", "classes").toAbsolutePath();
    private static final Path TEST_CLASSES = Path.of("target", "test-classes").toAbsolutePath();

    /** The java the tests run on. */
    private static String java() {
        return ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs the tests"));
    }

    /** The timeout only guards against a hung child. */
    private static Outcome run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(Path.of("target"), "child", ".out");
        Path err = Files.createTempFile(Path.of("target"), "child", ".err");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new IllegalStateException("child JVM still running after 60 s: " + command);
            }
            return new Outcome(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
