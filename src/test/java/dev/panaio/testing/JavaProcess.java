package dev.panaio.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a main class of the test sources in a fresh JVM (the same java
 * binary, class path mode), for tests that need a process of their own: to
 * exhaust a system-wide limit, to run without native access, to observe the
 * virtual-thread scheduler from a clean start.
 */
public final class JavaProcess {
    private JavaProcess() {
    }

    /** What the child printed (stdout and stderr together) and how it exited. */
    public record Result(int exitCode, String output) {
    }

    /** Runs {@code mainClass} with native access enabled for the class path. */
    public static Result run(Class<?> mainClass, List<String> jvmOptions, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(Path.of("target", "classes").toAbsolutePath() + ":"
                + Path.of("target", "test-classes").toAbsolutePath());
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(mainClass.getSimpleName() + " did not finish in 120 s");
        }
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }
}
