package dev.spamtrap.smtp.sensor;

import dev.spamtrap.smtp.tarpit.TarpitScheduler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;

import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * The pregreet test of one connection, as a handler in its Netty pipeline in front of James's line framer (so it sees
 * the client's raw bytes, after TLS and PROXY decoding).
 *
 * <p>When added it writes the teaser, the first line of a multi-line greeting ({@code 220-host ESMTP}), and holds
 * every reply James writes (its greeting {@code 220 host ...}, the final line) for {@code wait}. A legitimate client
 * waits for the final line before it says anything. The client talked early when bytes reach this handler before the
 * final line, or when James writes a second reply while the greeting is held: James answered a line the client sent
 * (James's framer runs on its own executor, so bytes sent at once at connect can reach James before this handler is
 * in the pipeline; James's answer to them cannot go out without passing here). Then:
 * <ul>
 * <li>the wait ends and the client said nothing: the greeting goes out, {@link Sensor#passed()} is told, and the gate
 * leaves the pipeline;</li>
 * <li>the client sent anything (a byte is enough: a partial line, a bare CRLF) before the final line:
 * {@link Sensor#caught} is told once, with the first bytes, and answers what to do:
 * <ul>
 * <li>{@link Decision#observe()}: nothing changes for the client; what it sent is kept (reads stop) and handed to James
 * after the greeting, at the end of the wait;</li>
 * <li>{@link Decision#tarpit()}: the sensor has put the connection in the tarpit; the held greeting is written again
 * through the whole pipeline (so the tarpit delays it) and what the client sent goes on to James;</li>
 * <li>{@link Decision#refuse(byte[])}: the greeting is dropped, the refusal is written and the connection closed.</li>
 * </ul></li>
 * </ul>
 * All state is confined to the channel's event loop; the wait is one scheduled task, no thread is held.
 */
public final class PregreetGate extends ChannelDuplexHandler {
    public static final String NAME = "spamtrapPregreet";
    /** How many of the client's first bytes are kept as evidence. */
    static final int EVIDENCE_BYTES = 64;

    /** What the sensor decided about an early talker. */
    public static final class Decision {
        private static final Decision OBSERVE = new Decision(0, null);
        private static final Decision TARPIT = new Decision(1, null);
        private final int kind;
        private final byte[] refusal;

        private Decision(int kind, byte[] refusal) {
            this.kind = kind;
            this.refusal = refusal;
        }

        public static Decision observe() {
            return OBSERVE;
        }

        /** The sensor has put the connection in the tarpit (its gate is in the pipeline). */
        public static Decision tarpit() {
            return TARPIT;
        }

        /** Refuse with these bytes (a whole reply line with CRLF), then close. */
        public static Decision refuse(byte[] refusal) {
            return new Decision(2, refusal.clone());
        }
    }

    /** The side that records and decides; called on the event loop. */
    public interface Sensor {
        /**
         * The client talked before the final greeting line: {@code firstBytes} (cut, as sent) reached this handler, or
         * (null) James answered a line it had sent. Called once per connection.
         */
        Decision caught(byte[] firstBytes);

        /** The wait ended and the client said nothing. */
        void passed();
    }

    private enum State { HOLDING, OBSERVING, OPEN }

    private final byte[] teaser;
    private final long waitNanos;
    private final Sensor sensor;
    private TarpitScheduler scheduler;
    private TarpitScheduler.Task timer;
    private State state = State.HOLDING;
    private final ArrayDeque<Object[]> heldWrites = new ArrayDeque<>();
    private final ArrayDeque<Object> heldReads = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    /** Replies James wrote (with bytes) while the greeting is held: the first is the greeting. */
    private int heldReplies;

    /**
     * @param teaser    the teaser line with CRLF, e.g. {@code 220-mx.example.com ESMTP\r\n}
     * @param scheduler timers; null for the channel's own event loop
     */
    public PregreetGate(byte[] teaser, long waitNanos, Sensor sensor, TarpitScheduler scheduler) {
        this.teaser = teaser.clone();
        this.waitNanos = waitNanos;
        this.sensor = sensor;
        this.scheduler = scheduler;
    }

    /** A teaser line for {@code host}: {@code 220-host ESMTP} with CRLF; control characters dropped. */
    public static byte[] teaser(String host) {
        String h = host == null ? "" : host.replaceAll("[\\x00-\\x1f\\x7f]", "").trim();
        return ("220-" + (h.isEmpty() ? "localhost" : h) + " ESMTP\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (scheduler == null) {
            scheduler = TarpitScheduler.on(ctx.executor());
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(teaser));
        timer = scheduler.schedule(this::waitOver, waitNanos);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (state == State.OPEN) {
            ctx.write(msg, promise);
            return;
        }
        heldWrites.add(new Object[] {msg, promise});
        boolean reply = !(msg instanceof ByteBuf) || ((ByteBuf) msg).isReadable();
        if (reply && ++heldReplies == 2 && state == State.HOLDING) {
            // James answered something the client sent before this handler was in place: it talked early
            caught(ctx, null, null);
        }
    }

    @Override
    public void flush(ChannelHandlerContext ctx) throws Exception {
        if (state == State.OPEN) {
            ctx.flush();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (state == State.OPEN) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (state == State.OBSERVING) {
            heldReads.add(msg);
            return;
        }
        if (!(msg instanceof ByteBuf) || !((ByteBuf) msg).isReadable()) {
            ctx.fireChannelRead(msg); // nothing the client said (a decoder's own message)
            return;
        }
        ByteBuf buf = (ByteBuf) msg;
        byte[] first = new byte[Math.min(EVIDENCE_BYTES, buf.readableBytes())];
        buf.getBytes(buf.readerIndex(), first);
        caught(ctx, first, msg);
    }

    /** The client talked early: ask the sensor, then act; {@code inbound} is what it sent (null when James answered it already). */
    private void caught(ChannelHandlerContext ctx, byte[] first, Object inbound) {
        Decision d = sensor.caught(first);
        switch (d.kind) {
            case 0:
                // observe: what it sends waits for the greeting; stop reading so a flood is not buffered here
                state = State.OBSERVING;
                if (inbound != null) {
                    heldReads.add(inbound);
                }
                ctx.channel().config().setAutoRead(false);
                break;
            case 1:
                cancelTimer();
                state = State.OPEN;
                // written again from the tail: the tarpit's gate (just before James's core handler) delays the greeting
                Object[][] writes = heldWrites.toArray(new Object[0][]);
                heldWrites.clear();
                for (Object[] w : writes) {
                    ctx.channel().write(w[0], (ChannelPromise) w[1]);
                }
                ctx.channel().flush();
                if (inbound != null) {
                    ctx.fireChannelRead(inbound);
                }
                break;
            default:
                cancelTimer();
                state = State.OPEN;
                if (inbound != null) {
                    ReferenceCountUtil.release(inbound);
                }
                dropHeldWrites();
                ctx.writeAndFlush(Unpooled.wrappedBuffer(d.refusal)).addListener(ChannelFutureListener.CLOSE);
                break;
        }
    }

    private void waitOver() {
        timer = null;
        if (state == State.OPEN || !ctx.channel().isActive()) {
            return;
        }
        boolean clean = state == State.HOLDING;
        state = State.OPEN;
        while (!heldWrites.isEmpty()) {
            Object[] w = heldWrites.poll();
            ctx.write(w[0], (ChannelPromise) w[1]);
        }
        ctx.flush();
        if (clean) {
            sensor.passed();
        }
        while (!heldReads.isEmpty()) {
            ctx.fireChannelRead(heldReads.poll());
        }
        ctx.channel().config().setAutoRead(true);
        ctx.pipeline().remove(this);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        cancelTimer();
        state = State.OPEN;
        dropHeldWrites();
        while (!heldReads.isEmpty()) {
            ReferenceCountUtil.release(heldReads.poll());
        }
        super.channelInactive(ctx);
    }

    private void dropHeldWrites() {
        while (!heldWrites.isEmpty()) {
            Object[] w = heldWrites.poll();
            ReferenceCountUtil.release(w[0]);
            ((ChannelPromise) w[1]).tryFailure(new ClosedChannelException());
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }
}
