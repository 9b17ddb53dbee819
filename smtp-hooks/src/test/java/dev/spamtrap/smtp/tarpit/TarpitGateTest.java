package dev.spamtrap.smtp.tarpit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.spamtrap.smtp.tarpit.ChannelText.out;
import static dev.spamtrap.smtp.tarpit.ChannelText.text;

class TarpitGateTest {
    private static final Duration DELAY = Duration.ofSeconds(5);
    private static final byte[] REFUSAL = "450 4.7.1 Your address 192.0.2.1 is refused\r\n".getBytes(StandardCharsets.US_ASCII);

    private FakeScheduler clock;
    private final List<String> seenByJames = new ArrayList<>();
    private final AtomicLong releasedAfter = new AtomicLong(-1);
    private int releases;

    /** Stands for James's core handler: answers each line at once, "QUIT" with a reply and a close. */
    private final class FakeJames extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            String line = buf.toString(StandardCharsets.US_ASCII).trim();
            buf.release();
            seenByJames.add(line);
            if (line.equals("DATA")) {
                ctx.channel().writeAndFlush(text("354 go ahead\r\n"));
            } else if (line.equals("QUIT")) {
                ctx.channel().writeAndFlush(text("221 bye\r\n"));
                ctx.channel().writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else if (!line.equals("SILENT")) {
                ctx.channel().writeAndFlush(text("250 ok " + line + "\r\n"));
            }
        }
    }

    @BeforeEach
    void setUp() {
        clock = new FakeScheduler();
    }

    private EmbeddedChannel channel(TarpitSettings settings) {
        TarpitGate gate = new TarpitGate(settings, REFUSAL, ms -> {
            releases++;
            releasedAfter.set(ms);
        }, clock);
        return new EmbeddedChannel(gate, new FakeJames());
    }

    private static TarpitSettings settings(Duration delay, boolean stutter, int stutterBytes, Duration maxDuration) {
        return new TarpitSettings(delay, stutter, stutterBytes, Duration.ofSeconds(1), maxDuration, 10, 10);
    }

    @Test
    void greetingIsWrittenOnlyAfterTheDelay() {
        EmbeddedChannel ch = channel(settings(DELAY, false, 1, Duration.ofMinutes(10)));
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER); // James's "nothing" from the connect handler goes at once
        ch.writeAndFlush(text("220 mail.example.com ESMTP\r\n"));
        assertThat(out(ch)).isEmpty();
        assertThat(ch.config().isAutoRead()).isFalse();
        clock.advance(DELAY.minusMillis(1));
        assertThat(out(ch)).isEmpty();
        clock.advance(Duration.ofMillis(1));
        assertThat(out(ch)).isEqualTo("220 mail.example.com ESMTP\r\n");
        assertThat(ch.config().isAutoRead()).isTrue();
    }

    @Test
    void eachReplyIsDelayedAndReadsPauseMeanwhile() {
        EmbeddedChannel ch = channel(settings(DELAY, false, 1, Duration.ofMinutes(10)));
        ch.writeAndFlush(text("220 hi\r\n"));
        clock.advance(DELAY);
        assertThat(out(ch)).isEqualTo("220 hi\r\n");

        ch.writeInbound(text("EHLO x\r\n"));
        assertThat(seenByJames).containsExactly("EHLO x");
        assertThat(ch.config().isAutoRead()).isFalse();
        clock.advance(DELAY.minusMillis(1));
        assertThat(out(ch)).isEmpty();
        clock.advance(Duration.ofMillis(1));
        assertThat(out(ch)).isEqualTo("250 ok EHLO x\r\n");
        assertThat(ch.config().isAutoRead()).isTrue();
    }

    @Test
    void aPipeliningClientCannotRunAhead() {
        EmbeddedChannel ch = channel(settings(DELAY, false, 1, Duration.ofMinutes(10)));
        ch.writeAndFlush(text("220 hi\r\n"));
        // the client sends everything before even seeing the greeting
        ch.writeInbound(text("EHLO x\r\n"), text("MAIL FROM:<a@b>\r\n"), text("RCPT TO:<c@d>\r\n"));
        assertThat(seenByJames).isEmpty();

        clock.advance(DELAY);
        assertThat(out(ch)).isEqualTo("220 hi\r\n");
        assertThat(seenByJames).containsExactly("EHLO x");
        assertThat(out(ch)).isEmpty();

        clock.advance(DELAY);
        assertThat(out(ch)).isEqualTo("250 ok EHLO x\r\n");
        assertThat(seenByJames).containsExactly("EHLO x", "MAIL FROM:<a@b>");

        clock.advance(DELAY.minusMillis(1));
        assertThat(out(ch)).isEmpty();
        clock.advance(Duration.ofMillis(1));
        assertThat(out(ch)).isEqualTo("250 ok MAIL FROM:<a@b>\r\n");
        assertThat(seenByJames).containsExactly("EHLO x", "MAIL FROM:<a@b>", "RCPT TO:<c@d>");

        clock.advance(DELAY);
        assertThat(out(ch)).isEqualTo("250 ok RCPT TO:<c@d>\r\n");
        assertThat(ch.config().isAutoRead()).isTrue();
    }

    @Test
    void linesThatGetNoReplyFlowStraightThrough() {
        EmbeddedChannel ch = channel(settings(DELAY, false, 1, Duration.ofMinutes(10)));
        ch.writeInbound(text("SILENT\r\n"), text("SILENT\r\n"));
        assertThat(seenByJames).containsExactly("SILENT", "SILENT");
        assertThat(ch.config().isAutoRead()).isTrue();
    }

    @Test
    void stutterWritesAFewBytesAtATime() {
        EmbeddedChannel ch = channel(settings(DELAY, true, 3, Duration.ofMinutes(10)));
        ch.writeAndFlush(text("220 hello\r\n")); // 11 bytes: 3+3+3+2
        clock.advance(DELAY.minusMillis(1));
        assertThat(out(ch)).isEmpty();
        clock.advance(Duration.ofMillis(1));
        assertThat(out(ch)).isEqualTo("220");
        clock.advance(Duration.ofSeconds(1));
        assertThat(out(ch)).isEqualTo(" he");
        assertThat(ch.config().isAutoRead()).isFalse();
        clock.advance(Duration.ofSeconds(1));
        assertThat(out(ch)).isEqualTo("llo");
        clock.advance(Duration.ofSeconds(1));
        assertThat(out(ch)).isEqualTo("\r\n");
        assertThat(ch.config().isAutoRead()).isTrue();
    }

    @Test
    void aReplyThatEndsTheSessionClosesRightAfterIt() {
        EmbeddedChannel ch = channel(settings(DELAY, false, 1, Duration.ofMinutes(10)));
        ch.writeInbound(text("QUIT\r\n"));
        assertThat(ch.isOpen()).isTrue();
        clock.advance(DELAY.minusMillis(1));
        assertThat(ch.isOpen()).isTrue();
        assertThat(out(ch)).isEmpty();
        clock.advance(Duration.ofMillis(1));
        assertThat(out(ch)).isEqualTo("221 bye\r\n");
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(releases).isEqualTo(1);
        assertThat(releasedAfter.get()).isEqualTo(DELAY.toMillis());
        assertThat(clock.pending()).isZero();
    }

    @Test
    void maxDurationRefusesAndClosesWhateverIsPending() {
        EmbeddedChannel ch = channel(settings(Duration.ofSeconds(40), false, 1, Duration.ofMinutes(1)));
        ch.writeAndFlush(text("220 hi\r\n"));
        clock.advance(Duration.ofSeconds(40));
        assertThat(out(ch)).isEqualTo("220 hi\r\n");
        ch.writeInbound(text("EHLO x\r\n"), text("MAIL FROM:<a@b>\r\n"));
        clock.advance(Duration.ofSeconds(20)); // reply to EHLO still 20 s away
        assertThat(out(ch)).isEqualTo(new String(REFUSAL, StandardCharsets.US_ASCII));
        ch.runPendingTasks();
        assertThat(ch.isOpen()).isFalse();
        assertThat(seenByJames).containsExactly("EHLO x");
        assertThat(releases).isEqualTo(1);
        assertThat(releasedAfter.get()).isEqualTo(60_000);
        clock.advance(Duration.ofMinutes(5));
        assertThat(out(ch)).isEmpty();
    }

    @Test
    void expiryInTheMiddleOfAStutteredReplyStartsTheRefusalOnItsOwnLine() {
        EmbeddedChannel ch = channel(new TarpitSettings(Duration.ofSeconds(1), true, 1, Duration.ofSeconds(1), Duration.ofSeconds(3), 10, 10));
        ch.writeAndFlush(text("220 hi\r\n"));
        // delay 1 s: "2" at 1 s, "2" at 2 s; at 3 s the expiry (scheduled first) wins over the next byte
        clock.advance(Duration.ofSeconds(3));
        assertThat(out(ch)).isEqualTo("22\r\n" + new String(REFUSAL, StandardCharsets.US_ASCII));
    }

    @Test
    void clientHangingUpReleasesOnceAndCancelsTimers() {
        EmbeddedChannel ch = channel(settings(DELAY, false, 1, Duration.ofMinutes(10)));
        ch.writeAndFlush(text("220 hi\r\n"));
        ch.writeInbound(text("EHLO x\r\n"));
        clock.advance(Duration.ofSeconds(2));
        ch.close();
        assertThat(releases).isEqualTo(1);
        assertThat(releasedAfter.get()).isEqualTo(2000);
        assertThat(clock.pending()).isZero();
        ch.finishAndReleaseAll();
        assertThat(releases).isEqualTo(1);
    }

    @Test
    void whatAPipeliningClientSendsBeyondTheBufferIsDropped() {
        EmbeddedChannel ch = channel(settings(DELAY, false, 1, Duration.ofMinutes(10)));
        ch.writeAndFlush(text("220 hi\r\n"));
        String big = "X".repeat(1000) + "\r\n";
        for (int i = 0; i < 100; i++) {
            ch.writeInbound(text(big));
        }
        clock.advance(Duration.ofMinutes(9));
        assertThat(seenByJames.size()).isLessThan(100).isGreaterThan(50);
        ch.finishAndReleaseAll();
    }

    @Test
    void startTlsIsAnswered454AndNeverReachesJamesButIsAnOrdinaryLineInsideData() {
        EmbeddedChannel ch = channel(settings(DELAY, false, 1, Duration.ofMinutes(10)));
        ch.writeInbound(text("STARTTLS\r\n"));
        assertThat(seenByJames).isEmpty();
        clock.advance(DELAY.minusMillis(1));
        assertThat(out(ch)).isEmpty();
        clock.advance(Duration.ofMillis(1));
        assertThat(out(ch)).startsWith("454 4.7.0 ");

        ch.writeInbound(text("DATA\r\n"));
        clock.advance(DELAY);
        assertThat(out(ch)).isEqualTo("354 go ahead\r\n");
        ch.writeInbound(text("starttls\r\n"));
        assertThat(seenByJames).containsExactly("DATA", "starttls");
    }
}
