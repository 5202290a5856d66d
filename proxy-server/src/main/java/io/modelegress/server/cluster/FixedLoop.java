package io.modelegress.server.cluster;

import io.lettuce.core.resource.EventLoopGroupProvider;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutorGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Hands Lettuce one of the sidecar's own event loops for its connection, instead of Lettuce's threads: a script
 * sent from that loop is written at once and its answer is read and completed on the same loop, with no hand-off
 * between threads either way. A reconnect stays on the loop (the bootstrap's group is the loop itself). The loop
 * belongs to the server, which shuts it down; Lettuce's release and shutdown leave it alone.
 */
final class FixedLoop implements EventLoopGroupProvider {
    private final EventLoop loop;

    FixedLoop(EventLoop loop) {
        this.loop = loop;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends EventLoopGroup> T allocate(Class<T> type) {
        // Lettuce asks for its transport's group class; the loop's transport is the same (RedisFleet checks it).
        return (T) loop;
    }

    @Override
    public int threadPoolSize() { return 1; }

    @Override
    public Future<Boolean> release(EventExecutorGroup group, long quietPeriod, long timeout, TimeUnit unit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }

    @Override
    public Future<Boolean> shutdown(long quietPeriod, long timeout, TimeUnit unit) {
        return ImmediateEventExecutor.INSTANCE.newSucceededFuture(true);
    }
}
