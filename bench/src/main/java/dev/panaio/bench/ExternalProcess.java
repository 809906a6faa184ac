package dev.panaio.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Runs a peer program (fio, the C loop) and collects its stdout; its stderr goes to ours. */
final class ExternalProcess {
    private ExternalProcess() {
    }

    /** The first executable {@code name} on PATH, or null. */
    static Path onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, name);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /**
     * Runs {@code command} to its end and returns what it printed on stdout.
     *
     * @throws EngineException if it cannot start or exits with a failure
     */
    static String run(String engine, List<String> command) throws EngineException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new EngineException("cannot start " + command.get(0) + ": " + e.getMessage(), e);
        }
        try {
            process.getOutputStream().close();
            String out = readAll(process.getInputStream());
            int rc = process.waitFor();
            if (rc != 0) {
                throw new EngineException(engine + " exited with status " + rc + " (command: "
                        + String.join(" ", command) + ")");
            }
            return out;
        } catch (IOException e) {
            throw new EngineException("reading the output of " + command.get(0) + ": " + e.getMessage(), e);
        } finally {
            process.destroy();
        }
    }

    private static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }
}
