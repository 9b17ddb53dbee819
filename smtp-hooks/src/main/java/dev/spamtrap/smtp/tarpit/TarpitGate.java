package dev.spamtrap.smtp.tarpit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;

import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.function.LongConsumer;

/**
 * One tarpitted connection, as a handler in its Netty pipeline just before James's SMTP core handler.
 *
 * <p>Outbound, it holds every reply James writes (the greeting, each command's reply, the reply after the
 * final ".") and releases it {@code delay} later from a task scheduled on the connection's event loop; in
 * stutter mode a few bytes at a time. Empty writes (James's "nothing to say" and the flush that precedes a
 * close) follow the reply before them at once, so a close happens right after its reply.
 *
 * <p>Inbound, while a reply is pending it stops reading from the socket ({@code autoRead=false}) and keeps
 * the lines the framer had already cut, so a pipelining client cannot run ahead: its next command is handed
 * to James only once the previous reply has gone out.
 *
 * <p>A STARTTLS outside DATA is answered 454 here and never reaches James (see {@link #pass}).
 *
 * <p>{@code maxDuration} after admission the connection gets the refusal at once and is closed, whatever
 * is pending. When the channel goes away, {@code onRelease} is told how long the client was held.
 *
 * <p>All state is confined to the channel's event loop: no locks, no thread per connection.
 */
public final class TarpitGate extends ChannelDuplexHandler {
    public static final String NAME = "spamtrapTarpit";

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] NO_TLS = "454 4.7.0 TLS not available due to temporary reason\r\n".getBytes(StandardCharsets.US_ASCII);
    /** James's framer (AllButStartTlsLineBasedChannelHandler) marks a STARTTLS it has seen with this attribute. */
    private static final AttributeKey<Object> STARTTLS_IN_FLIGHT = AttributeKey.valueOf("startTlsInFlight");

    private final TarpitSettings settings;
    private final byte[] expiryReply;
    private final LongConsumer onRelease;
    private TarpitScheduler scheduler;

    private final ArrayDeque<PendingWrite> writes = new ArrayDeque<>();
    private final ArrayDeque<Object> reads = new ArrayDeque<>();
    private int bufferedBytes;
    private long droppedLines;
    private TarpitScheduler.Task replyTimer;
    private TarpitScheduler.Task expiryTimer;
    private boolean partialReplyWritten;
    private boolean inData;
    private boolean expired;
    private boolean released;
    private long startNanos;
    private long repliesReleased;
    private ChannelHandlerContext ctx;

    private static final class PendingWrite {
        final Object msg;
        final ChannelPromise promise;

        PendingWrite(Object msg, ChannelPromise promise) {
            this.msg = msg;
            this.promise = promise;
        }
    }

    /**
     * @param expiryReply the whole refusal line (with CRLF) sent when {@code maxDuration} is reached
     * @param onRelease   called once, on the event loop, with the milliseconds the client was held
     * @param scheduler   timers; null for the channel's own event loop
     */
    public TarpitGate(TarpitSettings settings, byte[] expiryReply, LongConsumer onRelease, TarpitScheduler scheduler) {
        this.settings = settings;
        this.expiryReply = expiryReply.clone();
        this.onRelease = onRelease;
        this.scheduler = scheduler;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (scheduler == null) {
            scheduler = TarpitScheduler.on(ctx.executor());
        }
        startNanos = scheduler.nanoTime();
        expiryTimer = scheduler.schedule(this::expire, settings.maxDuration().toNanos());
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        release();
        super.channelInactive(ctx);
    }

    // ---- outbound: hold each reply ----

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (released || expired) {
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new ClosedChannelException());
            return;
        }
        writes.add(new PendingWrite(msg, promise));
        if (size(msg) > 0) {
            inData = startsWith354(msg);
            pauseReads();
        }
        if (writes.size() == 1 && replyTimer == null) {
            startNext();
        }
    }

    /** Starts the write at the head of the queue: an empty one goes out now, a reply after the delay. */
    private void startNext() {
        while (!released && !expired && replyTimer == null && !writes.isEmpty()) {
            PendingWrite head = writes.peek();
            if (size(head.msg) == 0) {
                writes.poll();
                ctx.writeAndFlush(head.msg, head.promise);
                continue;
            }
            replyTimer = scheduler.schedule(this::emit, settings.delay().toNanos());
        }
        if (!released && !expired && replyTimer == null && writes.isEmpty()) {
            resumeReads();
        }
    }

    private void emit() {
        replyTimer = null;
        if (released || expired) {
            return;
        }
        PendingWrite head = writes.peek();
        if (head == null) {
            resumeReads();
            return;
        }
        if (settings.stutter() && head.msg instanceof ByteBuf && ((ByteBuf) head.msg).readableBytes() > settings.stutterBytes()) {
            ctx.writeAndFlush(((ByteBuf) head.msg).readRetainedSlice(settings.stutterBytes()));
            partialReplyWritten = true;
            replyTimer = scheduler.schedule(this::emit, settings.stutterInterval().toNanos());
            return;
        }
        writes.poll();
        partialReplyWritten = false;
        repliesReleased++;
        ctx.writeAndFlush(head.msg, head.promise);
        startNext();
    }

    // ---- inbound: no line reaches James while a reply is pending ----

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (released || expired) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (!writes.isEmpty() || !reads.isEmpty()) {
            int n = size(msg);
            if (bufferedBytes + n > TarpitSettings.MAX_BUFFERED_BYTES) {
                droppedLines++;
                ReferenceCountUtil.release(msg);
                return;
            }
            bufferedBytes += n;
            reads.add(msg);
            pauseReads();
            return;
        }
        pass(msg);
    }

    /**
     * Hands a line to James, except a STARTTLS outside DATA: that is answered 454 (delayed like any reply).
     * Let through, James would put TLS in the pipeline at once while the gate still holds its "220 Ready";
     * the handshake could never start.
     */
    private void pass(Object msg) {
        if (!inData && msg instanceof ByteBuf && isStartTls((ByteBuf) msg)) {
            ReferenceCountUtil.release(msg);
            ctx.channel().attr(STARTTLS_IN_FLIGHT).set(null);
            ctx.channel().writeAndFlush(Unpooled.wrappedBuffer(NO_TLS));
            return;
        }
        ctx.fireChannelRead(msg);
    }

    static boolean isStartTls(ByteBuf line) {
        int n = line.readableBytes();
        if (n < 8 || n > 12) {
            return false;
        }
        return line.toString(line.readerIndex(), n, StandardCharsets.US_ASCII).trim().equalsIgnoreCase("STARTTLS");
    }

    private static boolean startsWith354(Object msg) {
        if (!(msg instanceof ByteBuf)) {
            return false;
        }
        ByteBuf b = (ByteBuf) msg;
        int i = b.readerIndex();
        return b.readableBytes() >= 4 && b.getByte(i) == '3' && b.getByte(i + 1) == '5' && b.getByte(i + 2) == '4' && b.getByte(i + 3) == ' ';
    }

    private void pauseReads() {
        if (ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    /** Nothing pending: hand James the lines kept meanwhile, one by one, until one of them causes a reply. */
    private void resumeReads() {
        while (!released && !expired && writes.isEmpty() && !reads.isEmpty()) {
            Object msg = reads.poll();
            bufferedBytes -= size(msg);
            pass(msg);
        }
        if (!released && !expired && writes.isEmpty() && reads.isEmpty() && !ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    // ---- the end ----

    private void expire() {
        expiryTimer = null;
        if (released || expired) {
            return;
        }
        expired = true;
        cancelReplyTimer();
        dropQueues();
        ctx.channel().config().setAutoRead(false);
        if (partialReplyWritten) {
            ctx.write(Unpooled.wrappedBuffer(CRLF));
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(expiryReply)).addListener(ChannelFutureListener.CLOSE);
    }

    private void release() {
        if (released) {
            return;
        }
        released = true;
        cancelReplyTimer();
        if (expiryTimer != null) {
            expiryTimer.cancel();
            expiryTimer = null;
        }
        dropQueues();
        long heldNanos = scheduler == null ? 0 : scheduler.nanoTime() - startNanos;
        onRelease.accept(heldNanos / 1_000_000);
    }

    private void cancelReplyTimer() {
        if (replyTimer != null) {
            replyTimer.cancel();
            replyTimer = null;
        }
    }

    private void dropQueues() {
        for (PendingWrite w; (w = writes.poll()) != null; ) {
            ReferenceCountUtil.release(w.msg);
            w.promise.tryFailure(new ClosedChannelException());
        }
        for (Object m; (m = reads.poll()) != null; ) {
            ReferenceCountUtil.release(m);
        }
        bufferedBytes = 0;
    }

    private static int size(Object msg) {
        if (msg instanceof ByteBuf) {
            return ((ByteBuf) msg).readableBytes();
        }
        if (msg instanceof ByteBufHolder) {
            return ((ByteBufHolder) msg).content().readableBytes();
        }
        return 1; // a FileRegion or ChunkedInput: not empty, never split
    }

    // ---- for tests and logs ----

    boolean isExpired() {
        return expired;
    }

    boolean isReleased() {
        return released;
    }

    int pendingReplies() {
        return writes.size();
    }

    int bufferedLines() {
        return reads.size();
    }

    long droppedLines() {
        return droppedLines;
    }

    long repliesReleased() {
        return repliesReleased;
    }
}
