package dev.spamtrap.smtp.sensor;

import org.apache.commons.configuration2.BaseHierarchicalConfiguration;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SensorSettingsTest {
    @Test
    void defaultsAreEverySensorOnTarpittingWithPostscreensWait() {
        SensorSettings s = SensorSettings.from(new BaseHierarchicalConfiguration());
        assertThat(s.pregreet().enabled()).isTrue();
        assertThat(s.pregreet().action()).isEqualTo(SensorSettings.Action.TARPIT);
        assertThat(s.pregreetWait()).isEqualTo(Duration.ofSeconds(6));
        assertThat(s.passLifetime()).isEqualTo(Duration.ofHours(24));
        assertThat(s.http().action()).isEqualTo(SensorSettings.Action.TARPIT);
        assertThat(s.header().enabled()).isTrue();
    }

    @Test
    void eachSensorHasItsOwnSwitchAndAction() {
        BaseHierarchicalConfiguration c = new BaseHierarchicalConfiguration();
        c.addProperty("pregreet.action", "observe");
        c.addProperty("pregreet.wait", "2s");
        c.addProperty("pregreet.passLifetime", "12h");
        c.addProperty("http.action", "REFUSE");
        c.addProperty("header.enabled", "false");
        SensorSettings s = SensorSettings.from(c);
        assertThat(s.pregreet().action()).isEqualTo(SensorSettings.Action.OBSERVE);
        assertThat(s.pregreetWait()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.passLifetime()).isEqualTo(Duration.ofHours(12));
        assertThat(s.http().action()).isEqualTo(SensorSettings.Action.REFUSE);
        assertThat(s.header().enabled()).isFalse();
        assertThat(s.toString()).isEqualTo("pregreet observe (wait 2 seconds, pass 12 hours), http refuse, header off");
    }

    @Test
    void aBadValueNamesItsParameterAndTheFix() {
        BaseHierarchicalConfiguration c = new BaseHierarchicalConfiguration();
        c.addProperty("http.action", "drop");
        assertThatThrownBy(() -> SensorSettings.from(c)).hasMessage("http.action: 'drop' is not one of observe, tarpit, refuse");
        BaseHierarchicalConfiguration d = new BaseHierarchicalConfiguration();
        d.addProperty("pregreet.wait", "5m");
        assertThatThrownBy(() -> SensorSettings.from(d)).hasMessageStartingWith("pregreet.wait: 5 minutes is out of range 100ms .. 60s");
        BaseHierarchicalConfiguration e = new BaseHierarchicalConfiguration();
        e.addProperty("header.enabled", "yes");
        assertThatThrownBy(() -> SensorSettings.from(e)).hasMessage("header.enabled: 'yes' is not true or false");
        BaseHierarchicalConfiguration f = new BaseHierarchicalConfiguration();
        f.addProperty("pregreet.passLifetime", "soon");
        assertThatThrownBy(() -> SensorSettings.from(f)).hasMessage("pregreet.passLifetime: 'soon' is not a duration (use e.g. 500ms, 6s, 24h)");
    }
}
