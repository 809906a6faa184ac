package dev.panaio;

import com.sun.nio.file.ExtendedOpenOption;
import dev.panaio.testing.TestData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.management.MBeanServer;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AioEngineMXBeanTest {
    private static final MBeanServer SERVER = ManagementFactory.getPlatformMBeanServer();

    @TempDir
    Path dir;

    @Test
    void shouldPublishTheEngineStatsWhileItIsOpen() throws Exception {
        Path path = TestData.writeFile(dir.resolve("data"), 64 << 10, 3);
        ObjectName name = new ObjectName("dev.panaio:type=AioEngine,name=mxbean-test");
        try (AioEngine engine = AioEngine.builder().name("mxbean-test").capacity(8).build();
             AioFile file = AioFile.open(path, READ, ExtendedOpenOption.DIRECT);
             AioArena arena = AioArena.open()) {
            assertThat(SERVER.isRegistered(name)).isTrue();
            for (int i = 0; i < 16; i++) {
                engine.read(file, arena.allocate(4096, 4096), i * 4096L).join();
            }
            assertThat(SERVER.getAttribute(name, "Name")).isEqualTo("mxbean-test");
            assertThat(SERVER.getAttribute(name, "Capacity")).isEqualTo(engine.capacity());
            assertThat(SERVER.getAttribute(name, "Threads")).isEqualTo(1);
            assertThat(SERVER.getAttribute(name, "RequestsSubmitted")).isEqualTo(16L);
            assertThat(SERVER.getAttribute(name, "RequestsCompleted")).isEqualTo(16L);
            assertThat(SERVER.getAttribute(name, "InFlight")).isEqualTo(0L);
            assertThat(SERVER.getAttribute(name, "IoSubmitCalls")).isEqualTo(engine.stats().ioSubmitCalls());
            assertThat(SERVER.getAttribute(name, "MeanBatch")).isEqualTo(engine.stats().meanBatch());
            assertThat(SERVER.getAttribute(name, "BounceCopiedBytes")).isEqualTo(0L);
            assertThat(SERVER.getMBeanInfo(name).getDescriptor().getFieldValue("mxbean")).isEqualTo("true");
        }
        assertThat(SERVER.isRegistered(name)).isFalse();
    }

    @Test
    void shouldNameDefaultEnginesApartAndRefuseASecondOpenEngineOfTheSameName() throws Exception {
        try (AioEngine first = AioEngine.open(); AioEngine second = AioEngine.open()) {
            assertThat(first.name()).isNotEqualTo(second.name());
            assertThat(SERVER.isRegistered(new ObjectName("dev.panaio:type=AioEngine,name=" + first.name())))
                    .isTrue();
        }
        try (AioEngine named = AioEngine.builder().name("twice").build()) {
            assertThatThrownBy(() -> AioEngine.builder().name("twice").build())
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("dev.panaio:type=AioEngine,name=twice")
                    .hasMessageContaining("own name");
            assertThat(SERVER.getAttribute(new ObjectName("dev.panaio:type=AioEngine,name=twice"), "Name"))
                    .isEqualTo(named.name());
        }
        assertThatThrownBy(() -> AioEngine.builder().name("shared")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldPublishTheSharedEngineAsShared() throws Exception {
        AioEngine shared = AioEngine.shared();
        assertThat(shared.name()).isEqualTo("shared");
        assertThat(SERVER.getAttribute(new ObjectName("dev.panaio:type=AioEngine,name=shared"), "Name"))
                .isEqualTo("shared");
    }
}
