package io.modelegress.core.proxy.pac;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.mozilla.javascript.Context;
import org.mozilla.javascript.ContextFactory;
import org.mozilla.javascript.Function;
import org.mozilla.javascript.RhinoException;
import org.mozilla.javascript.Scriptable;
import org.mozilla.javascript.ScriptableObject;

/**
 * One compiled PAC file in a sandbox: Rhino's safe standard objects (no {@code Packages}, {@code java}, no
 * LiveConnect), a class shutter that refuses every Java class, interpreted mode so an instruction observer can stop
 * a call that runs past {@code callLimit} or allocates more than {@code allocationLimit} bytes, and a bounded stack.
 * Not thread-safe: the server evaluates PAC calls on one dedicated thread (they may block on DNS).
 */
public final class PacScript {
    private static final String FUNCTIONS = functions();
    private static final int OBSERVE_EVERY = 10_000; // instructions between two looks at the clock

    private final SandboxFactory factory;
    private final ScriptableObject scope;
    private final Function findProxy;
    private final boolean ex;
    private final String name;

    private PacScript(SandboxFactory factory, ScriptableObject scope, Function findProxy, boolean ex, String name) {
        this.factory = factory;
        this.scope = scope;
        this.findProxy = findProxy;
        this.ex = ex;
        this.name = name;
    }

    /**
     * Compiles {@code source} and runs its top level (under the same limits as a call).
     * @throws PacException when it does not compile, fails, or defines neither FindProxyForURL nor FindProxyForURLEx
     */
    public static PacScript compile(String source, String name, PacHost host, Duration callLimit, long allocationLimit)
            throws PacException {
        SandboxFactory factory = new SandboxFactory(callLimit.toNanos(), allocationLimit);
        return factory.run(name, "loading", cx -> {
            ScriptableObject scope = cx.initSafeStandardObjects(null, true);
            PacFunctions.install(scope, host);
            cx.evaluateString(scope, FUNCTIONS, "pac-functions.js", 1, null);
            cx.evaluateString(scope, source, name, 1, null);
            Object fx = ScriptableObject.getProperty(scope, "FindProxyForURLEx");
            Object f = fx instanceof Function ? fx : ScriptableObject.getProperty(scope, "FindProxyForURL");
            if (!(f instanceof Function)) {
                throw new PacException("PAC file " + name + " defines no function FindProxyForURL(url, host)");
            }
            return new PacScript(factory, scope, (Function) f, fx instanceof Function, name);
        });
    }

    /** {@code FindProxyForURL(url, host)} (or the Ex variant when the file defines it): the answer string. */
    public String findProxyForUrl(String url, String host) throws PacException {
        return factory.run(name, "FindProxyForURL" + (ex ? "Ex" : "") + "(\"" + url + "\", \"" + host + "\")", cx -> {
            Object r = findProxy.call(cx, scope, scope, new Object[] {url, host});
            if (r == null || r instanceof org.mozilla.javascript.Undefined) return "";
            return Context.toString(r);
        });
    }

    public String name() {
        return name;
    }

    private interface Body<T> {
        T run(Context cx) throws PacException;
    }

    /** Stops a runaway call; an Error so that the script's own try/catch cannot swallow it. */
    private static final class LimitReached extends Error {
        LimitReached(String message) {
            super(message, null, false, false);
        }
    }

    private static final class SandboxContext extends Context {
        long deadlineNanos;
        long allocationStart;

        SandboxContext(ContextFactory factory) {
            super(factory);
        }
    }

    private static final class SandboxFactory extends ContextFactory {
        private static final com.sun.management.ThreadMXBean THREADS = threads();
        private final long callNanos;
        private final long allocationLimit;

        SandboxFactory(long callNanos, long allocationLimit) {
            this.callNanos = callNanos;
            this.allocationLimit = allocationLimit;
        }

        @Override
        protected Context makeContext() {
            SandboxContext cx = new SandboxContext(this);
            cx.setInterpretedMode(true);
            cx.setLanguageVersion(Context.VERSION_ES6);
            cx.setClassShutter(className -> false);
            cx.setInstructionObserverThreshold(OBSERVE_EVERY);
            cx.setMaximumInterpreterStackDepth(500);
            return cx;
        }

        @Override
        protected void observeInstructionCount(Context cx, int instructionCount) {
            SandboxContext s = (SandboxContext) cx;
            if (System.nanoTime() - s.deadlineNanos > 0) {
                throw new LimitReached("ran longer than " + Duration.ofNanos(callNanos).toMillis() + "ms (proxy.pac_timeout)");
            }
            if (THREADS != null && THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - s.allocationStart > allocationLimit) {
                throw new LimitReached("allocated more than " + (allocationLimit >> 20) + "MiB");
            }
        }

        @Override
        protected boolean hasFeature(Context cx, int featureIndex) {
            if (featureIndex == Context.FEATURE_ENHANCED_JAVA_ACCESS) return false;
            return super.hasFeature(cx, featureIndex);
        }

        <T> T run(String name, String what, Body<T> body) throws PacException {
            SandboxContext cx = (SandboxContext) enterContext();
            try {
                cx.deadlineNanos = System.nanoTime() + callNanos;
                cx.allocationStart = THREADS == null ? 0 : THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
                return body.run(cx);
            } catch (LimitReached e) {
                throw new PacException("PAC file " + name + ": " + what + " stopped: it " + e.getMessage());
            } catch (StackOverflowError e) {
                throw new PacException("PAC file " + name + ": " + what + " stopped: it recursed too deep");
            } catch (RhinoException e) {
                throw new PacException("PAC file " + name + ": " + what + " failed: " + e.details()
                        + (e.lineNumber() > 0 ? " (line " + e.lineNumber() + ")" : ""), e);
            } catch (RuntimeException e) {
                throw new PacException("PAC file " + name + ": " + what + " failed: " + e, e);
            } finally {
                Context.exit();
            }
        }

        private static com.sun.management.ThreadMXBean threads() {
            try {
                var bean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                if (!bean.isThreadAllocatedMemorySupported()) return null;
                if (!bean.isThreadAllocatedMemoryEnabled()) bean.setThreadAllocatedMemoryEnabled(true);
                return bean;
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }
    }

    private static String functions() {
        try (InputStream in = PacScript.class.getResourceAsStream("pac-functions.js")) {
            if (in == null) throw new IllegalStateException("pac-functions.js missing from the classpath");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("pac-functions.js unreadable", e);
        }
    }
}
