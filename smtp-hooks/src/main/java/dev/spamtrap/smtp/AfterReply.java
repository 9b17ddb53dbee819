package dev.spamtrap.smtp;

import dev.spamtrap.smtp.tarpit.TarpitChannels;
import io.netty.channel.Channel;
import org.apache.james.protocols.api.ProtocolSession;

import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Where a hook puts work that must not delay its reply: handing a hit to the recorder's thread or an event line to
 * the writer's wakes another thread (a futex call, then a thread competing for the cores while the reply is written).
 * A hook runs on its connection's Netty event loop; a task given to that loop from the loop itself wakes nobody and
 * runs after the current read is handled, when the reply has been written and flushed. Off the loop (unit tests, a
 * transport that is not Netty), the work runs at once.
 */
final class AfterReply {
    private AfterReply() {
    }

    static Executor of(ProtocolSession session) {
        Optional<Channel> channel = TarpitChannels.of(session);
        if (channel.isPresent() && channel.get().eventLoop().inEventLoop()) {
            return channel.get().eventLoop();
        }
        return Runnable::run;
    }
}
