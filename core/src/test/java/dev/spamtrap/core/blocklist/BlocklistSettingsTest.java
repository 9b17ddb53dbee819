package dev.spamtrap.core.blocklist;

import dev.spamtrap.core.config.ConfigException;
import dev.spamtrap.core.config.SpamtrapConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BlocklistSettingsTest {
    @TempDir
    Path dir;

    private SpamtrapConfig load(String text) throws Exception {
        Path p = dir.resolve("spamtrap.properties");
        Files.writeString(p, text);
        return SpamtrapConfig.load(p);
    }

    @Test
    void noListsByDefault() throws Exception {
        assertThat(load("").blocklists()).isEmpty();
    }

    @Test
    void listsInTheOrderNamedWithTheirSourcesTextsRefreshesAndActions() throws Exception {
        List<BlocklistSettings> l = load("lists = nixspam, uatraps ,local\n"
            + "list.nixspam.url = https://www.openbsd.org/spamd/nixspam.gz\n"
            + "list.nixspam.message = Your address %A is in the nixspam list\\nSee http://www.heise.de/ix/nixspam/dnsbl_en/ for details\n"
            + "list.nixspam.refresh = 30m\n"
            + "list.uatraps.url = file:/var/db/uatraps.txt\n"
            + "list.uatraps.action = tarpit\n"
            + "list.local.url = lists/local.txt\n"
            + "list.local.action = observe\n").blocklists();
        assertThat(l).extracting(BlocklistSettings::name).containsExactly("nixspam", "uatraps", "local");
        assertThat(l.get(0).source().describe()).isEqualTo("https://www.openbsd.org/spamd/nixspam.gz");
        assertThat(l.get(0).message()).isEqualTo("Your address %A is in the nixspam list See http://www.heise.de/ix/nixspam/dnsbl_en/ for details");
        assertThat(l.get(0).refresh()).isEqualTo(Duration.ofMinutes(30));
        assertThat(l.get(0).action()).isEqualTo(BlocklistSettings.Action.REFUSE);
        assertThat(l.get(1).source().describe()).isEqualTo("file:///var/db/uatraps.txt");
        assertThat(l.get(1).message()).isEqualTo("Your address %A is in the uatraps list");
        assertThat(l.get(1).refresh()).isEqualTo(Duration.ofHours(1));
        assertThat(l.get(1).action()).isEqualTo(BlocklistSettings.Action.TARPIT);
        assertThat(((BlocklistSource.File) l.get(2).source()).path()).isEqualTo(dir.resolve("lists/local.txt"));
        assertThat(l.get(2).action()).isEqualTo(BlocklistSettings.Action.OBSERVE);
    }

    @Test
    void mistakesNameTheFileTheKeyAndTheFix() {
        assertThatThrownBy(() -> load("lists = nixspam\n")).isInstanceOf(ConfigException.class)
            .hasMessageContaining("spamtrap.properties: key 'list.nixspam.url': is required");
        assertThatThrownBy(() -> load("list.nixspam.url = http://x.test/l\n"))
            .hasMessageContaining("key 'list.nixspam.url': list 'nixspam' is not named in key 'lists'");
        assertThatThrownBy(() -> load("lists = a\nlist.a.url = ftp://x.test/l\n"))
            .hasMessageContaining("key 'list.a.url'").hasMessageContaining("only http://, https://, file: and plain paths");
        assertThatThrownBy(() -> load("lists = a\nlist.a.url = l.txt\nlist.a.action = block\n"))
            .hasMessageContaining("key 'list.a.action': 'block' is not one of refuse, tarpit, observe");
        assertThatThrownBy(() -> load("lists = a\nlist.a.url = l.txt\nlist.a.refresh = soon\n"))
            .hasMessageContaining("key 'list.a.refresh'");
        assertThatThrownBy(() -> load("lists = a\nlist.a.url = l.txt\nlist.a.msg = hi\n"))
            .hasMessageContaining("key 'list.a.msg': unknown key");
        assertThatThrownBy(() -> load("lists = Nix-Spam\n")).hasMessageContaining("key 'lists': 'Nix-Spam' is not a list name");
        assertThatThrownBy(() -> load("lists = a, a\nlist.a.url = l.txt\n")).hasMessageContaining("'a' is named twice");
        assertThatThrownBy(() -> load("lists = a\nlist.a.url = l.txt\nlist.a.message = caf\\u00e9\n"))
            .hasMessageContaining("key 'list.a.message': must be printable ASCII");
    }
}
