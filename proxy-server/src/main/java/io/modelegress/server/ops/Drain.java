package io.modelegress.server.ops;

import io.modelegress.core.error.EgressException;
import io.modelegress.core.error.ErrorCode;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What graceful shutdown needs to know: the agent connections and the exchanges in flight. Once draining, answers
 * carry {@code Connection: close}; exchanges left at the drain deadline end with {@code shutting_down}.
 */
public final class Drain {
    private final ChannelGroup agentChannels = new DefaultChannelGroup("agents", GlobalEventExecutor.INSTANCE);
    // A count, not a set: a shared set took a write to one shared map per request from every event loop. At the
    // drain deadline each agent connection ends its own exchange (abortRemaining).
    private final LongAdder inFlight = new LongAdder();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private volatile boolean draining;

    public void track(Channel agentChannel) { agentChannels.add(agentChannel); }

    public void started() { inFlight.increment(); }

    /** A passed-through WebSocket: drained like a request, ended with 1001 at the drain deadline. */
    public interface Socket {
        /** Closes both sides with 1001, on the socket's own event loop (never blocks the caller). */
        void shutDown();
    }

    public void opened(Socket s) { sockets.add(s); }

    public void closed(Socket s) {
        sockets.remove(s);
        wakeIfIdle();
    }

    public void ended() {
        inFlight.decrement();
        wakeIfIdle();
    }

    private boolean idle() { return inFlight.sum() == 0 && sockets.isEmpty(); }

    private void wakeIfIdle() {
        if (draining && idle()) {
            synchronized (this) {
                notifyAll();
            }
        }
    }

    /** Waits (on the shutdown thread, never an event loop) until nothing is in flight or {@code nanos} passed. */
    public synchronized boolean awaitIdle(long nanos) throws InterruptedException {
        long end = System.nanoTime() + nanos;
        while (!idle()) {
            long left = end - System.nanoTime();
            if (left <= 0) return false;
            java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    public boolean draining() { return draining; }

    public void begin() { draining = true; }

    public int inFlight() { return (int) inFlight.sum(); }

    public int openSockets() { return sockets.size(); }

    /** An agent connection's exchange in flight, ended on that connection's event loop at the drain deadline. */
    public interface InFlight {
        void shutDown(EgressException why);
    }

    /** Ends whatever is still running, each on its own event loop: a 503 before the commit point, an SSE error after. */
    public void abortRemaining() {
        for (Socket s : sockets) s.shutDown();
        for (Channel ch : agentChannels) {
            ch.eventLoop().execute(() -> {
                for (var entry : ch.pipeline()) {
                    if (entry.getValue() instanceof InFlight f) f.shutDown(new EgressException(ErrorCode.SHUTTING_DOWN,
                            "the sidecar is shutting down and its drain time (server.drain_timeout) ran out"));
                }
            });
        }
    }

    public void closeAgentConnections() { agentChannels.close().awaitUninterruptibly(); }
}
