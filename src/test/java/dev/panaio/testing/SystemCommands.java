package dev.panaio.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Runs the system tools that block-device tests need (losetup, mkfs, mount,
 * dmsetup), and skips a test, naming the Debian package, where one is
 * missing.
 */
final class SystemCommands {
    private SystemCommands() {
    }

    private static final List<String> TOOL_DIRS = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

    /** How a command exited and what it printed (stdout and stderr). */
    record Result(String command, int exitCode, String output) {
        /** This result, or an IOException naming the step if the command failed. */
        Result check(String what) throws IOException {
            if (exitCode != 0) {
                throw new IOException(what + " failed: " + this);
            }
            return this;
        }

        @Override
        public String toString() {
            return command + " exited " + exitCode + ": " + output.strip();
        }
    }

    /** Skips the test unless it runs as root. */
    static void assumeRoot() {
        assumeTrue("root".equals(ProcessHandle.current().info().user().orElse("")),
                "block devices need root, and the tests run as " + ProcessHandle.current().info().user());
    }

    /** The path of {@code name}, from PATH or the sbin directories; skips the test if it is not installed. */
    static String tool(String name, String debianPackage) {
        List<String> dirs = new ArrayList<>(TOOL_DIRS);
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(0, List.of(path.split(":")));
        }
        for (String dir : dirs) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        assumeTrue(false, name + " is not installed (Debian package " + debianPackage + ")");
        throw new AssertionError("unreachable");
    }

    /** Runs a command with no input, for at most 60 s. */
    static Result exec(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        try {
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in 60 s");
            }
            return new Result(String.join(" ", command), process.exitValue(), output);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + String.join(" ", command), e);
        }
    }
}
