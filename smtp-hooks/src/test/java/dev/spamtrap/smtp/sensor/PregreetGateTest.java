package dev.spamtrap.smtp.sensor;

import dev.spamtrap.smtp.tarpit.FakeScheduler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.spamtrap.smtp.tarpit.ChannelText.out;
import static dev.spamtrap.smtp.tarpit.ChannelText.text;

/** The pregreet test of one connection on an EmbeddedChannel, with a manual clock: what the client sees, and when. */
class PregreetGateTest {
    private static final Duration WAIT = Duration.ofSeconds(6);
    private static final String TEASER = "220-mx.example.com ESMTP\r\n";
    private static final String GREETING = "220 mx.example.com ESMTP James\r\n";

    private FakeScheduler clock;
    private final List<String> seenByJames = new ArrayList<>();
    private final List<String> caught = new ArrayList<>();
    private int passes;
    private PregreetGate.Decision decision;
    /** Stands for a tarpit gate the sensor adds when it tarpits: counts the replies that pass through it. */
    private final List<String> throughTarpit = new ArrayList<>();

    /** Stands for James's framer and core handler: records each message it gets. */
    private final class FakeJames extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            seenByJames.add(buf.toString(StandardCharsets.US_ASCII));
            buf.release();
        }
    }

    private final class Counting extends ChannelDuplexHandler {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, io.netty.channel.ChannelPromise promise) {
            if (((ByteBuf) msg).isReadable()) {
                throughTarpit.add(((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
            }
            ctx.write(msg, promise);
        }
    }

    @BeforeEach
    void setUp() {
        clock = new FakeScheduler();
    }

    /** A connection: the gate added (teaser out), then James writes its greeting, as in James's connect handlers. */
    private EmbeddedChannel connect() {
        EmbeddedChannel ch = new EmbeddedChannel(new FakeJames());
        ch.pipeline().addFirst("gate", new PregreetGate(PregreetGate.teaser("mx.example.com"), WAIT.toNanos(), new PregreetGate.Sensor() {
            @Override
            public PregreetGate.Decision caught(byte[] firstBytes) {
                caught.add(firstBytes == null ? null : new String(firstBytes, StandardCharsets.US_ASCII));
                if (decision == PregreetGate.Decision.tarpit()) {
                    ch.pipeline().addBefore(ch.pipeline().context(FakeJames.class).name(), "tarpit", new Counting());
                }
                return decision;
            }

            @Override
            public void passed() {
                passes++;
            }
        }, clock));
        ch.writeAndFlush(text(GREETING));
        return ch;
    }

    @Test
    void aClientThatWaitsGetsTheTeaserAtOnceTheGreetingAfterTheWaitAndPasses() {
        EmbeddedChannel ch = connect();
        assertThat(out(ch)).isEqualTo(TEASER);
        clock.advance(WAIT.minusMillis(1));
        assertThat(out(ch)).as("the final line is held for the whole wait").isEmpty();
        assertThat(passes).isZero();
        clock.advance(Duration.ofMillis(1));
        assertThat(out(ch)).isEqualTo(GREETING);
        assertThat(passes).isEqualTo(1);
        assertThat(ch.pipeline().get("gate")).as("the gate leaves the pipeline").isNull();
        ch.writeInbound(text("EHLO client.example.org\r\n"));
        ch.writeAndFlush(text("250 mx.example.com\r\n"));
        assertThat(seenByJames).containsExactly("EHLO client.example.org\r\n");
        assertThat(out(ch)).isEqualTo("250 mx.example.com\r\n");
        assertThat(caught).isEmpty();
    }

    @Test
    void anEarlyTalkerIsCaughtOnceAndTarpittedTheGreetingGoingThroughTheTarpit() {
        decision = PregreetGate.Decision.tarpit();
        EmbeddedChannel ch = connect();
        assertThat(out(ch)).isEqualTo(TEASER);
        clock.advance(Duration.ofSeconds(1));
        ch.writeInbound(text("EHLO bot\r\n"));
        assertThat(caught).containsExactly("EHLO bot\r\n");
        assertThat(throughTarpit).as("the held greeting is written again through the tarpit's gate").containsExactly(GREETING);
        assertThat(seenByJames).containsExactly("EHLO bot\r\n");
        ch.writeInbound(text("MAIL FROM:<a@b>\r\n"));
        assertThat(caught).hasSize(1);
        clock.advance(WAIT);
        assertThat(passes).as("a caught client never passes").isZero();
    }

    /**
     * James's framer runs on its own executor: a line sent at once at connect can reach James before the gate is in the
     * pipeline. James's answer to it, written while the greeting is held, gives the early talker away.
     */
    @Test
    void aReplyWrittenWhileTheGreetingIsHeldMeansJamesAnsweredAnEarlyLine() {
        decision = PregreetGate.Decision.tarpit();
        EmbeddedChannel ch = connect();
        assertThat(out(ch)).isEqualTo(TEASER);
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER);
        assertThat(caught).as("an empty write is no reply").isEmpty();
        ch.writeAndFlush(text("250 mx.example.com Hello bot\r\n"));
        assertThat(caught).hasSize(1);
        assertThat(caught.get(0)).isNull();
        assertThat(throughTarpit).as("greeting and reply, in order, through the tarpit").containsExactly(GREETING, "250 mx.example.com Hello bot\r\n");
    }

    @Test
    void anEarlyTalkerRefusedGetsTheRefusalInsteadOfTheGreetingAndIsClosed() {
        decision = PregreetGate.Decision.refuse("450 4.7.1 Your address 192.0.2.1 has broken the SMTP protocol\r\n".getBytes(StandardCharsets.US_ASCII));
        EmbeddedChannel ch = connect();
        assertThat(out(ch)).isEqualTo(TEASER);
        ch.writeInbound(text("E"));
        assertThat(caught).containsExactly("E");
        assertThat(out(ch)).isEqualTo("450 4.7.1 Your address 192.0.2.1 has broken the SMTP protocol\r\n");
        assertThat(ch.isOpen()).isFalse();
        assertThat(seenByJames).isEmpty();
        assertThat(passes).isZero();
    }

    @Test
    void observeChangesNothingForTheClientItsWordsReachJamesAfterTheGreeting() {
        decision = PregreetGate.Decision.observe();
        EmbeddedChannel ch = connect();
        out(ch);
        ch.writeInbound(text("EHLO hurried\r\n"));
        assertThat(caught).containsExactly("EHLO hurried\r\n");
        assertThat(seenByJames).as("held until the greeting").isEmpty();
        assertThat(ch.config().isAutoRead()).isFalse();
        clock.advance(WAIT);
        assertThat(out(ch)).isEqualTo(GREETING);
        assertThat(seenByJames).containsExactly("EHLO hurried\r\n");
        assertThat(ch.config().isAutoRead()).isTrue();
        assertThat(passes).as("an observed early talker did not pass").isZero();
        assertThat(ch.pipeline().get("gate")).isNull();
    }

    @Test
    void aClientThatHangsUpDuringTheWaitIsNeitherCaughtNorPassed() {
        EmbeddedChannel ch = connect();
        out(ch);
        ch.close();
        clock.advance(WAIT);
        assertThat(caught).isEmpty();
        assertThat(passes).isZero();
        assertThat(clock.pending()).isZero();
    }

    @Test
    void theTeaserCarriesNoControlCharacters() {
        assertThat(new String(PregreetGate.teaser("mx\r\n250 x"), StandardCharsets.US_ASCII)).isEqualTo("220-mx250 x ESMTP\r\n");
        assertThat(new String(PregreetGate.teaser(null), StandardCharsets.US_ASCII)).isEqualTo("220-localhost ESMTP\r\n");
    }
}
