package dev.panaio;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the public API lets a caller in the same JVM do with native memory
 * and descriptors, checked over every public type of the exported package
 * (see SECURITY.md for the threat model):
 * <ul>
 *   <li>nothing takes or returns a raw address, a file descriptor number, a
 *       MemorySegment or an internal type; the only memory a caller hands in
 *       is a MemorySegment or ByteBuffer, whose bounds and liveness the
 *       caller cannot forge without native access of their own;</li>
 *   <li>every such parameter is covered by a heap and a closed-arena case in
 *       the BadInput tables ({@link BadInputTable});</li>
 *   <li>no public method returns memory panaio shares with the kernel;</li>
 *   <li>the only pollable things are panaio's own, and no public class can be
 *       subclassed from outside.</li>
 * </ul>
 */
class PublicApiSecurityTest {
    private static final Path CLASSES = Path.of("target", "classes", "dev", "panaio");
    private static final Path SOURCES = Path.of("src", "main", "java", "dev", "panaio");

    private static List<Class<?>> publicTypes;

    @BeforeAll
    static void findPublicTypes() throws IOException, ClassNotFoundException {
        publicTypes = new ArrayList<>();
        try (Stream<Path> files = Files.list(CLASSES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
                String simple = file.getFileName().toString().replace(".class", "");
                if (simple.equals("module-info") || simple.equals("package-info")) {
                    continue;
                }
                Class<?> type = Class.forName("dev.panaio." + simple, false,
                        PublicApiSecurityTest.class.getClassLoader());
                if (isPublicApi(type)) {
                    publicTypes.add(type);
                }
            }
        }
        assertThat(publicTypes).as("public types found in %s", CLASSES)
                .contains(AioContext.class, AioEngine.class, AioEngine.Builder.class, AioFile.class, EventFd.class,
                        AioFileChannel.class, AioAsynchronousFileChannel.class, RequestOptions.class);
    }

    private static boolean isPublicApi(Class<?> type) {
        for (Class<?> t = type; t != null; t = t.getEnclosingClass()) {
            if (!Modifier.isPublic(t.getModifiers()) || t.isAnonymousClass() || t.isLocalClass()) {
                return false;
            }
        }
        return true;
    }

    /** Public and protected methods and constructors declared by panaio's public types (no bridges). */
    private static List<Executable> publicExecutables() {
        List<Executable> all = new ArrayList<>();
        for (Class<?> type : publicTypes) {
            Stream.concat(Arrays.stream(type.getDeclaredMethods()), Arrays.stream(type.getDeclaredConstructors()))
                    .filter(e -> Modifier.isPublic(e.getModifiers()) || Modifier.isProtected(e.getModifiers()))
                    .filter(e -> !e.isSynthetic() && !(e instanceof Method m && m.isBridge()))
                    .forEach(all::add);
        }
        return all;
    }

    /** {@code AioContext.prepareRead(AioFile,MemorySegment,long,long)}, as the BadInput tables name their cases. */
    static String signature(Executable e) {
        Class<?> type = e.getDeclaringClass();
        String owner = type.getEnclosingClass() == null ? type.getSimpleName()
                : type.getEnclosingClass().getSimpleName() + "." + type.getSimpleName();
        String name = e instanceof Method ? owner + "." + e.getName() : owner;
        return name + Arrays.stream(e.getParameterTypes()).map(Class::getSimpleName)
                .collect(Collectors.joining(",", "(", ")"));
    }

    private static boolean isInternal(Class<?> type) {
        Class<?> t = type.isArray() ? type.componentType() : type;
        return t.getPackageName().startsWith("dev.panaio.internal");
    }

    @Test
    void shouldExportOnlyTheApiPackageAndOpenNothing() {
        ModuleDescriptor module = AioContext.class.getModule().getDescriptor();
        assertThat(module).as("panaio runs as a named module here").isNotNull();
        assertThat(module.exports()).extracting(ModuleDescriptor.Exports::source).containsExactly("dev.panaio");
        assertThat(module.exports()).allSatisfy(e -> assertThat(e.isQualified()).isFalse());
        assertThat(module.opens()).isEmpty();
        assertThat(module.isOpen()).isFalse();
    }

    @Test
    void shouldTakeNoInternalTypeAndReturnNoMemorySegmentArenaOrInternalType() {
        List<String> offending = new ArrayList<>();
        for (Executable e : publicExecutables()) {
            // The JDK contract's FileChannel.map into an arena's segment: a mapping of the file itself, owned by
            // the caller's arena, never memory the kernel's AIO writes into.
            boolean mapIntoArena = signature(e).equals("AioFileChannel.map(MapMode,long,long,Arena)");
            for (Class<?> parameter : e.getParameterTypes()) {
                if (isInternal(parameter) || parameter == Arena.class && !mapIntoArena) {
                    offending.add(signature(e) + " takes " + parameter.getName());
                }
            }
            if (e instanceof Method m) {
                Class<?> returned = m.getReturnType();
                // The one segment allowed is AioArena's allocation (Arena's contract): the caller's own memory,
                // never memory the kernel shares with the process.
                boolean arenaAllocation = signature(e).equals("AioArena.allocate(long,long)");
                if (isInternal(returned) || (returned == MemorySegment.class && !arenaAllocation && !mapIntoArena)
                        || returned == MemorySegment[].class || returned == Arena.class) {
                    offending.add(signature(e) + " returns " + returned.getName());
                }
                // A buffer returned could alias memory shared with the kernel; the one allowed is the JDK
                // contract's FileChannel.map, a mapping of the file itself.
                if (Buffer.class.isAssignableFrom(returned) && !signature(e).equals(
                        "AioFileChannel.map(MapMode,long,long)")) {
                    offending.add(signature(e) + " returns " + returned.getName());
                }
            }
        }
        assertThat(offending).isEmpty();
    }

    @Test
    void shouldExposeNoMutableOrNativeFields() {
        List<String> offending = new ArrayList<>();
        for (Class<?> type : publicTypes) {
            for (Field field : type.getDeclaredFields()) {
                int modifiers = field.getModifiers();
                if (!Modifier.isPublic(modifiers) && !Modifier.isProtected(modifiers)) {
                    continue;
                }
                if (!Modifier.isStatic(modifiers) || !Modifier.isFinal(modifiers) || field.getType() == MemorySegment.class
                        || isInternal(field.getType())) {
                    offending.add(type.getSimpleName() + "." + field.getName() + " : " + field.getType().getName());
                }
            }
        }
        assertThat(offending).isEmpty();
    }

    @Test
    void shouldHaveABadInputCaseForEveryParameterThatCarriesMemory() {
        Set<String> cases = new TreeSet<>(BadInputTable.caseNames());
        List<String> missing = new ArrayList<>();
        int memoryTaking = 0;
        for (Executable e : publicExecutables()) {
            List<Class<?>> parameters = List.of(e.getParameterTypes());
            boolean segment = parameters.contains(MemorySegment.class) || parameters.contains(MemorySegment[].class);
            boolean buffer = parameters.contains(ByteBuffer.class) || parameters.contains(ByteBuffer[].class);
            if (!segment && !buffer) {
                continue;
            }
            memoryTaking++;
            String signature = signature(e);
            List<String> needed = new ArrayList<>(List.of("closed arena"));
            // Native memory is required where the caller's memory goes to the kernel as it is.
            if (segment || e.getDeclaringClass() == AioContext.class) {
                needed.add("heap");
            }
            for (String kind : needed) {
                if (cases.stream().noneMatch(c -> c.startsWith(signature + ": ") && c.contains(kind))) {
                    missing.add(signature + ": " + kind);
                }
            }
        }
        assertThat(memoryTaking).as("public methods that take a MemorySegment or a ByteBuffer").isGreaterThan(20);
        assertThat(missing).as("BadInput cases missing").isEmpty();
    }

    /**
     * Methods that take an address only to compute with it, never to reach
     * memory or the kernel through it.
     */
    private static final Set<String> PURE_ARITHMETIC = Set.of(
            "DirectAlignment.java: isMemoryAligned"); // (address & (memory - 1)) == 0, a predicate

    @Test
    void shouldNameNoParameterLikeADescriptorOrAnAddress() throws IOException {
        // javac keeps no parameter names by default, so the sources are read instead.
        Pattern declaration = Pattern.compile(
                "public\\s+(?:static\\s+|final\\s+|abstract\\s+|synchronized\\s+|sealed\\s+)*(?:record\\s+)?"
                        + "(?:<[^>]*>\\s*)?[\\w.<>\\[\\], ?]*?\\b(\\w+)\\s*\\(([^)]*)\\)", Pattern.DOTALL);
        Pattern forbidden = Pattern.compile("(?i)(fd|fds|fildes|filedes|descriptor|address|addr|ptr|pointer|ctx|"
                + "ctxid|ring|iocb|raw\\w*)");
        List<String> offending = new ArrayList<>();
        int declarations = 0;
        try (Stream<Path> files = Files.list(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String source = Files.readString(file);
                if (!Pattern.compile("^public ", Pattern.MULTILINE).matcher(source).find()) {
                    continue; // a package-private class: not API
                }
                Matcher m = declaration.matcher(source.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", ""));
                while (m.find()) {
                    declarations++;
                    String parameters = m.group(2);
                    while (parameters.matches("(?s).*<[^<>]*>.*")) {
                        parameters = parameters.replaceAll("<[^<>]*>", "");
                    }
                    for (String parameter : parameters.split(",")) {
                        String[] words = parameter.trim().split("\\s+");
                        String name = words[words.length - 1];
                        String where = file.getFileName() + ": " + m.group(1);
                        if (!name.isEmpty() && forbidden.matcher(name).matches() && !PURE_ARITHMETIC.contains(where)) {
                            offending.add(file.getFileName() + ": " + m.group(1) + "(... " + parameter.trim() + " ...)");
                        }
                    }
                }
            }
        }
        assertThat(declarations).as("public declarations read from %s", SOURCES).isGreaterThan(80);
        assertThat(offending).isEmpty();
    }

    @Test
    void shouldLetOnlyPanaiosOwnTypesBePolled() {
        assertThat(Pollable.class.isSealed()).isTrue();
        assertThat(Pollable.class.getPermittedSubclasses()).containsExactlyInAnyOrder(AioFile.class, EventFd.class);
    }

    @Test
    void shouldLeaveNoPublicClassOpenToSubclassesFromOutside() {
        List<String> open = new ArrayList<>();
        for (Class<?> type : publicTypes) {
            if (type.isInterface() || type.isEnum() || type.isRecord() || Modifier.isFinal(type.getModifiers())) {
                continue;
            }
            boolean constructible = Arrays.stream(type.getDeclaredConstructors()).anyMatch(
                    c -> Modifier.isPublic(c.getModifiers()) || Modifier.isProtected(c.getModifiers()));
            if (constructible) {
                open.add(type.getName());
            }
        }
        assertThat(open).as("public classes a caller could subclass").isEmpty();
        assertThat(publicTypes.stream().filter(Class::isInterface).filter(t -> !t.isSealed())
                .filter(t -> !t.isAnnotationPresent(FunctionalInterface.class)).map(Class::getName).toList())
                .as("public interfaces a caller could implement, other than callbacks").isEmpty();
    }
}
