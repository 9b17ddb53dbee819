package dev.spamtrap.smtp.tarpit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.nio.charset.StandardCharsets;

/** ASCII text in and out of an {@link EmbeddedChannel}, for the tests of handlers that write SMTP replies. */
public final class ChannelText {
    private ChannelText() {
    }

    /** A line the client sends, as the buffer a handler receives. */
    public static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    /** Everything written to the client so far, as one string (the buffers are released). */
    public static String out(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            sb.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        return sb.toString();
    }
}
