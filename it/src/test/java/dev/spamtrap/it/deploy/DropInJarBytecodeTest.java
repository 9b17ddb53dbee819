package dev.spamtrap.it.deploy;

import dev.spamtrap.it.stack.ProjectLayout;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every class in the drop-in jar (ours and the bundled libraries) must load on James 3.8.1's Java 11:
 * class file major version 55 or lower. Runs after dist has built the shaded jar.
 */
class DropInJarBytecodeTest {
    static final int JAVA_11 = 55;

    @Test
    void everyClassInTheDropInJarIsJava11Bytecode() throws IOException {
        List<String> tooNew = new ArrayList<>();
        int classes = 0;
        try (JarFile jar = new JarFile(ProjectLayout.locate().extensionJar().toFile())) {
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                JarEntry entry = e.nextElement();
                if (!entry.getName().endsWith(".class")) {
                    continue;
                }
                classes++;
                int major = majorVersion(jar.getInputStream(entry));
                if (major > JAVA_11) {
                    tooNew.add(entry.getName() + " (class file version " + major + ")");
                }
            }
        }
        assertThat(classes).as("classes in the jar").isGreaterThan(100);
        assertThat(tooNew).as("classes Java 11 cannot load").isEmpty();
    }

    @Test
    void theCheckRecognisesNewerClassFiles() throws IOException {
        // This test class is compiled for Java 17 (the it module): the check must see it as too new.
        try (InputStream own = DropInJarBytecodeTest.class.getResourceAsStream("DropInJarBytecodeTest.class")) {
            assertThat(majorVersion(own)).isEqualTo(61).isGreaterThan(JAVA_11);
        }
    }

    static int majorVersion(InputStream in) throws IOException {
        try (DataInputStream data = new DataInputStream(in)) {
            if (data.readInt() != 0xCAFEBABE) {
                throw new IOException("not a class file");
            }
            data.readUnsignedShort();
            return data.readUnsignedShort();
        }
    }
}
