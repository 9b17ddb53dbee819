package dev.spamtrap.smtp.tarpit;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import org.apache.james.protocols.api.ProtocolSession;

import java.util.concurrent.TimeUnit;

/**
 * Lets a client that half-closes its side still get its replies. Exim sends the final "." and QUIT together, then
 * shuts down writing; Netty would close the connection at once, and James 3.8.1 then often drops the reply to "."
 * and the sender delivers the message again. With this handler the connection stays open for {@value #GRACE_SECONDS}
 * s after the client's input ends (James answers "." and QUIT and closes it itself long before), then is closed. A
 * tarpitted connection is closed at once when its input ends, as before: a gone offender holds no tarpit place.
 */
@ChannelHandler.Sharable
public final class HalfClosedInput extends ChannelInboundHandlerAdapter {
    public static final String NAME = "spamtrapHalfClosedInput";
    static final long GRACE_SECONDS = 30;
    private static final HalfClosedInput INSTANCE = new HalfClosedInput();

    private HalfClosedInput() {
    }

    /** Installs the handler on the session's connection; false if its Netty channel cannot be reached. */
    public static boolean install(ProtocolSession session) {
        return TarpitChannels.of(session).map(channel -> {
            if (channel.pipeline().get(NAME) == null) {
                channel.pipeline().addFirst(NAME, INSTANCE);
                channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, Boolean.TRUE);
            }
            return true;
        }).orElse(false);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            if (ctx.pipeline().get(TarpitGate.NAME) != null) {
                ctx.close();
            } else {
                ctx.executor().schedule(() -> {
                    ctx.close();
                }, GRACE_SECONDS, TimeUnit.SECONDS);
            }
        }
        super.userEventTriggered(ctx, evt);
    }
}
