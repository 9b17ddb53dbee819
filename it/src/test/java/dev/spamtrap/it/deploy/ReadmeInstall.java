package dev.spamtrap.it.deploy;

import dev.spamtrap.it.stack.ProjectLayout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Follows README.md's "Installing into your James" steps on a James root, taking the XML to add from the
 * README itself: if the README's steps or snippets are wrong, the tests that use this fail.
 */
final class ReadmeInstall {
    private final ProjectLayout layout = ProjectLayout.locate();
    private final String section;

    ReadmeInstall() throws IOException {
        String readme = Files.readString(layout.root().resolve("README.md"));
        int start = readme.indexOf("## Installing into your James");
        int end = readme.indexOf("\n## ", start + 1);
        if (start < 0) {
            throw new IllegalStateException("README.md has no 'Installing into your James' section");
        }
        section = readme.substring(start, end < 0 ? readme.length() : end);
    }

    /** Steps 1 to 4 on JAMES = root (its conf/ holds James's own configuration files). */
    void applyTo(Path root) throws IOException {
        Path conf = root.resolve("conf");
        // 1. the drop-in jar
        Files.createDirectories(root.resolve("extensions-jars"));
        Files.copy(layout.extensionJar(), root.resolve("extensions-jars/james-spamtrap-extension.jar"), StandardCopyOption.REPLACE_EXISTING);
        // 2. spamtrap.properties, traps.txt, allowlist.txt, extensions.properties
        for (String f : List.of("spamtrap.properties", "traps.txt", "allowlist.txt", "extensions.properties")) {
            require(section.contains(f), "step 2 names " + f);
            Files.copy(layout.jamesConf().resolve(f), conf.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        // 3. the handlers, before ValidRcptHandler, in every SMTP server of smtpserver.xml
        List<String> xml = xmlBlocks();
        String chain = xml.stream().filter(b -> b.contains("<handlerchain>")).findFirst()
            .orElseThrow(() -> new IllegalStateException("README: no <handlerchain> snippet"));
        String handlers = chain.substring(chain.indexOf("<handlerchain>") + "<handlerchain>".length(),
            chain.indexOf("<handler class=\"org.apache.james.smtpserver.fastfail.ValidRcptHandler\""));
        require(handlers.contains("dev.spamtrap.smtp.TrapRcptHook"), "the snippet holds the spamtrap handlers");
        edit(conf.resolve("smtpserver.xml"), s -> {
            require(s.contains("fastfail.ValidRcptHandler"), "James's smtpserver.xml lists ValidRcptHandler");
            return s.replaceAll("(?m)^(\\s*)(<handler class=\"org\\.apache\\.james\\.smtpserver\\.fastfail\\.ValidRcptHandler\")",
                Matcher.quoteReplacement(handlers.strip()) + "\n$1$2");
        });
        // 4. the quarantine mailet, first in the root processor
        String mailet = xml.stream().filter(b -> b.contains("dev.spamtrap.mailets.IsTrapped")).findFirst()
            .orElseThrow(() -> new IllegalStateException("README: no IsTrapped mailet snippet")).strip();
        edit(conf.resolve("mailetcontainer.xml"), s -> {
            Matcher m = Pattern.compile("<processor state=\"root\"[^>]*>").matcher(s);
            require(m.find(), "James's mailetcontainer.xml has a root processor");
            return s.substring(0, m.end()) + "\n" + mailet + s.substring(m.end());
        });
        // ... and the two property lines named in step 3
        require(section.contains("james.protocols.mdc.hostname=false"), "the jvm.properties line");
        Files.writeString(conf.resolve("jvm.properties"), "\njames.protocols.mdc.hostname=false\n", java.nio.file.StandardOpenOption.APPEND);
        require(section.contains("`extensions.routes` line of `conf/james/webadmin.properties`"), "the webadmin.properties line");
        Files.writeString(conf.resolve("webadmin.properties"), "\n" + routesLine(layout.jamesConf().resolve("webadmin.properties")) + "\n",
            java.nio.file.StandardOpenOption.APPEND);
    }

    /** The sample's {@code extensions.routes=} line with its continuation lines. */
    static String routesLine(Path sample) throws IOException {
        StringBuilder line = new StringBuilder();
        boolean in = false;
        for (String l : Files.readAllLines(sample)) {
            if (l.startsWith("extensions.routes=")) {
                in = true;
            }
            if (in) {
                line.append(l).append('\n');
                if (!l.endsWith("\\")) {
                    break;
                }
            }
        }
        require(line.length() > 0, "an extensions.routes line in " + sample);
        return line.toString().strip();
    }

    private List<String> xmlBlocks() {
        List<String> blocks = new ArrayList<>();
        Matcher m = Pattern.compile("```xml\\n(.*?)```", Pattern.DOTALL).matcher(section);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    static void edit(Path file, java.util.function.UnaryOperator<String> change) throws IOException {
        Files.writeString(file, change.apply(Files.readString(file)));
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("README install section: expected " + what);
        }
    }
}
