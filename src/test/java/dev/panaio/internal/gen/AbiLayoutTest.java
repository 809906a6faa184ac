package dev.panaio.internal.gen;

import dev.panaio.internal.gen.aio_abi.aio_abi_h;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.PaddingLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Proves that the committed jextract output is the kernel's ABI on this
 * machine: gcc compiles small probes that print sizeof and offsetof, and every
 * generated layout must agree with them, field by field. It also shows that
 * libaio's declarations of iocb and io_event lay out exactly like
 * linux/aio_abi.h's.
 */
class AbiLayoutTest {
    private static Map<String, String> kernel;
    private static Map<String, String> libaio;
    private static Map<String, String> glibcFlock;

    @BeforeAll
    static void compileProbes() throws Exception {
        assumeTrue(onPath("gcc"), "gcc is not installed: the ABI cannot be checked against a C compiler here "
                + "(.ci/run installs it)");
        kernel = probe("aio_abi_probe.c");
        libaio = Files.exists(Path.of("/usr/include/libaio.h")) ? probe("libaio_probe.c") : null;
        glibcFlock = probe("glibc_flock_probe.c");
    }

    @Test
    void shouldLayOutIocbAsTheKernelDoes() {
        assertMatchesGcc("iocb", dev.panaio.internal.gen.aio_abi.iocb.layout(), kernel);
        assertThat(kernel).containsEntry("iocb", "64");
    }

    @Test
    void shouldLayOutIoEventAsTheKernelDoes() {
        assertMatchesGcc("io_event", dev.panaio.internal.gen.aio_abi.io_event.layout(), kernel);
        assertThat(kernel).containsEntry("io_event", "32");
    }

    @Test
    void shouldLayOutTheRingHeaderAsTheKernelDoes() {
        assertMatchesGcc("aio_ring", dev.panaio.internal.gen.aio_abi.aio_ring.layout(), kernel);
        assertThat(kernel).containsEntry("aio_ring", "32");
    }

    @Test
    void shouldLayOutTheOtherStructuresAsTheKernelDoes() {
        assertMatchesGcc("__kernel_timespec", dev.panaio.internal.gen.aio_abi.__kernel_timespec.layout(), kernel);
        assertMatchesGcc("iovec", dev.panaio.internal.gen.aio_abi.iovec.layout(), kernel);
        assertMatchesGcc("__aio_sigset", dev.panaio.internal.gen.aio_abi.__aio_sigset.layout(), kernel);
        assertMatchesGcc("statx", dev.panaio.internal.gen.aio_abi.statx.layout(), kernel);
    }

    @Test
    void shouldLayOutFlockAsTheKernelDoes() {
        assertMatchesGcc("flock", dev.panaio.internal.gen.aio_abi.flock.layout(), kernel);
        assertThat(kernel).containsEntry("flock", "32");
    }

    @Test
    void shouldShowTheKernelsFlockIsTheOneGlibcsFcntlTakes() {
        Map<String, String> kernelFlock = new LinkedHashMap<>();
        kernel.forEach((key, value) -> {
            if (key.equals("flock") || key.startsWith("flock.")) {
                kernelFlock.put(key, value);
            }
        });
        Map<String, String> glibcStruct = new LinkedHashMap<>(glibcFlock);
        glibcStruct.keySet().removeIf(key -> !key.equals("flock") && !key.startsWith("flock."));
        assertThat(glibcStruct).hasSize(6).isEqualTo(kernelFlock);

        Map<String, String> constants = new LinkedHashMap<>();
        constants.put("F_OFD_GETLK", Integer.toString(aio_abi_h.F_OFD_GETLK()));
        constants.put("F_OFD_SETLK", Integer.toString(aio_abi_h.F_OFD_SETLK()));
        constants.put("F_OFD_SETLKW", Integer.toString(aio_abi_h.F_OFD_SETLKW()));
        constants.put("F_RDLCK", Integer.toString(aio_abi_h.F_RDLCK()));
        constants.put("F_WRLCK", Integer.toString(aio_abi_h.F_WRLCK()));
        constants.put("F_UNLCK", Integer.toString(aio_abi_h.F_UNLCK()));
        constants.put("SEEK_SET", Integer.toString(aio_abi_h.SEEK_SET()));
        assertThat(glibcFlock).containsAllEntriesOf(constants).hasSize(6 + constants.size());
    }

    @Test
    void shouldGenerateLibaioLayoutsThatMatchGcc() {
        assumeTrue(libaio != null, "libaio-dev is not installed (/usr/include/libaio.h is missing); .ci/run "
                + "installs it");
        GroupLayout iocb = dev.panaio.internal.gen.libaio.iocb.layout();
        Map<String, String> generated = new LinkedHashMap<>();
        generated.put("iocb", Long.toString(iocb.byteSize()));
        Map<String, List<PathElement>> paths = new LinkedHashMap<>();
        paths.put("aio_data", List.of(groupElement("data")));
        paths.put("aio_key", List.of(groupElement("key")));
        paths.put("aio_rw_flags", List.of(groupElement("aio_rw_flags")));
        paths.put("aio_lio_opcode", List.of(groupElement("aio_lio_opcode")));
        paths.put("aio_reqprio", List.of(groupElement("aio_reqprio")));
        paths.put("aio_fildes", List.of(groupElement("aio_fildes")));
        for (String[] common : new String[][] {{"aio_buf", "buf"}, {"aio_nbytes", "nbytes"},
                {"aio_offset", "offset"}, {"aio_reserved2", "__pad3"}, {"aio_flags", "flags"},
                {"aio_resfd", "resfd"}}) {
            paths.put(common[0], List.of(groupElement("u"), groupElement("c"), groupElement(common[1])));
        }
        paths.forEach((name, path) -> generated.put("iocb." + name, field(iocb, path)));
        generated.putAll(fieldsOf("io_event", dev.panaio.internal.gen.libaio.io_event.layout()));

        assertThat(generated).isEqualTo(libaio);
    }

    @Test
    void shouldShowLibaioAndTheKernelHeaderAgreeOnIocbAndIoEvent() {
        assumeTrue(libaio != null, "libaio-dev is not installed (/usr/include/libaio.h is missing); .ci/run "
                + "installs it");
        Map<String, String> kernelSubset = new LinkedHashMap<>();
        kernel.forEach((key, value) -> {
            if (key.equals("iocb") || key.startsWith("iocb.") || key.equals("io_event")
                    || key.startsWith("io_event.")) {
                kernelSubset.put(key, value);
            }
        });
        assertThat(libaio).hasSize(18).isEqualTo(kernelSubset);
    }

    /** Every named member of the generated layout, and its size, agree with gcc; gcc knows no member it lacks. */
    private static void assertMatchesGcc(String struct, GroupLayout layout, Map<String, String> gcc) {
        Map<String, String> generated = fieldsOf(struct, layout);
        Map<String, String> probed = new LinkedHashMap<>();
        gcc.forEach((key, value) -> {
            if (key.equals(struct) || key.startsWith(struct + ".")) {
                probed.put(key, value);
            }
        });
        assertThat(probed).as("gcc's view of struct %s", struct).hasSizeGreaterThan(1);
        // statx has more members than the probe prints: every probed one must match.
        assertThat(generated).containsAllEntriesOf(probed);
        if (!struct.equals("statx")) {
            assertThat(generated).isEqualTo(probed);
        }
    }

    private static Map<String, String> fieldsOf(String struct, GroupLayout layout) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put(struct, Long.toString(layout.byteSize()));
        for (MemoryLayout member : layout.memberLayouts()) {
            if (member instanceof PaddingLayout || member.name().isEmpty()) {
                continue;
            }
            String name = member.name().get();
            fields.put(struct + "." + name, field(layout, List.of(groupElement(name))));
        }
        return fields;
    }

    private static String field(GroupLayout layout, List<PathElement> path) {
        PathElement[] elements = path.toArray(PathElement[]::new);
        return layout.byteOffset(elements) + " " + layout.select(elements).byteSize();
    }

    private static Map<String, String> probe(String source) throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "abi-probe"));
        Path c = dir.resolve(source);
        try (var in = AbiLayoutTest.class.getResourceAsStream("/abi/" + source)) {
            Files.write(c, in.readAllBytes());
        }
        Path exe = dir.resolve(source.replace(".c", ""));
        run(List.of("gcc", "-std=gnu11", "-Wall", "-Werror", "-I", Path.of("headers").toAbsolutePath().toString(),
                "-o", exe.toString(), c.toString()));
        Map<String, String> layout = new LinkedHashMap<>();
        for (String line : run(List.of(exe.toString())).split("\n")) {
            int space = line.indexOf(' ');
            layout.put(line.substring(0, space), line.substring(space + 1));
        }
        return layout;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("%s failed:%n%s", command, output).isZero();
        return output;
    }

    private static boolean onPath(String program) {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(":")));
        return dirs.stream().anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, program)));
    }
}
