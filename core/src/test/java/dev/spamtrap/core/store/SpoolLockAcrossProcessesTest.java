package dev.spamtrap.core.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The spool's lock holds between processes, not only between threads of one JVM: a second JVM opening the same
 * spool directory is refused while this one holds it, and gets it once this one has closed it.
 */
class SpoolLockAcrossProcessesTest {
    @TempDir
    Path dir;

    /** Run in the child JVM: opens the spool at args[0], prints OPENED or IN USE. */
    public static void main(String[] args) {
        try (HitSpool spool = new HitSpool(Paths.get(args[0]), 1 << 20)) {
            System.out.println("OPENED");
        } catch (HitSpool.SpoolInUseException e) {
            System.out.println("IN USE: " + e.getMessage());
        }
    }

    private String openInAnotherJvm() throws Exception {
        Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
            SpoolLockAcrossProcessesTest.class.getName(), dir.toString())).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void aSecondProcessIsRefusedWhileTheSpoolIsHeldAndGetsItAfter() throws Exception {
        try (HitSpool held = new HitSpool(dir, 1 << 20)) {
            assertThat(openInAnotherJvm()).contains("IN USE").contains("in use by another James process");
        }
        assertThat(openInAnotherJvm()).contains("OPENED").doesNotContain("IN USE");
    }
}
