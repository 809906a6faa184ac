package dev.panaio.internal.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Names the filesystem a path lives on, from {@code /proc/self/mountinfo},
 * so that "this filesystem does not support O_DIRECT" can say which one.
 */
public final class MountTable {
    private MountTable() {
    }

    /** The filesystem type ("ext4", "tmpfs") of the mount holding {@code path}, or "unknown". */
    public static String filesystemType(Path path) {
        Path real = realExistingAncestor(path);
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        } catch (IOException | SecurityException e) {
            return "unknown";
        }
        String best = "unknown";
        int bestLength = -1;
        for (String line : lines) {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            String[] fields = line.split(" ");
            int dash = List.of(fields).indexOf("-");
            if (fields.length < 5 || dash < 0 || dash + 1 >= fields.length) {
                continue;
            }
            Path mountPoint = Path.of(unescape(fields[4]));
            int length = mountPoint.getNameCount();
            if (real.startsWith(mountPoint) && length >= bestLength) {
                best = fields[dash + 1];
                bestLength = length;
            }
        }
        return best;
    }

    private static Path realExistingAncestor(Path path) {
        for (Path p = path.toAbsolutePath(); p != null; p = p.getParent()) {
            try {
                return p.toRealPath();
            } catch (IOException | SecurityException e) {
                // try the parent: the file itself may not exist yet
            }
        }
        return path.toAbsolutePath();
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    private static String unescape(String field) {
        var sb = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                sb.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
