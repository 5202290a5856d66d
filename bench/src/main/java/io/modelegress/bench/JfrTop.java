package io.modelegress.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * The top of a JFR recording, for JDK 17 (whose {@code jfr} tool has no {@code view}): hot methods by self and by
 * total samples, allocation by class and by allocating method, and GC pauses.
 *
 * <pre>java -cp bench.jar io.modelegress.bench.JfrTop recording.jfr [--top 25] [--thread-prefix egress-io] [--requests N]</pre>
 *
 * <p>With {@code --requests} (the requests served while recording, from wrk) it also prints the bytes allocated per
 * request, from {@code jdk.ThreadAllocationStatistics} (exact per-thread counters at the chunk's start and end, not
 * samples): a figure that another process's load on the machine does not change.
 */
public final class JfrTop {
    private JfrTop() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length < 1) {
            System.err.println("usage: JfrTop FILE.jfr [--top N] [--thread-prefix PREFIX]");
            System.exit(2);
        }
        Path file = Path.of(argv[0]);
        CliArgs a = new CliArgs(java.util.Arrays.copyOfRange(argv, 1, argv.length), "top", "thread-prefix", "requests");
        int top = a.integer("top", 25);
        String threadPrefix = a.string("thread-prefix", "");
        long requests = a.integer("requests", 0);
        Map<String, long[]> allocatedByThread = new HashMap<>(); // thread -> {first, last} cumulative bytes

        Map<String, Long> self = new HashMap<>();
        Map<String, Long> total = new HashMap<>();
        Map<String, Long> byThread = new HashMap<>();
        Map<String, Long> allocByClass = new HashMap<>();
        Map<String, Long> allocBySite = new HashMap<>();
        Map<String, Long> allocByProject = new HashMap<>();
        long samples = 0;
        long allocBytes = 0;
        long gcCount = 0;
        Duration gcTotal = Duration.ZERO;
        Duration gcLongest = Duration.ZERO;
        Map<String, Long> gcByName = new HashMap<>();

        List<RecordedEvent> events = new java.util.ArrayList<>(RecordingFile.readAllEvents(file));
        events.sort(java.util.Comparator.comparing(RecordedEvent::getStartTime));
        // A thread's first allocation sample weighs everything it allocated before the recording started: skip it.
        Set<Long> allocatingThreads = new HashSet<>();
        for (RecordedEvent e : events) {
            String type = e.getEventType().getName();
            switch (type) {
                case "jdk.ExecutionSample" -> {
                    String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
                    byThread.merge(threadGroup(thread), 1L, Long::sum);
                    if (thread == null || !thread.startsWith(threadPrefix)) continue;
                    List<RecordedFrame> frames = frames(e.getStackTrace());
                    if (frames.isEmpty()) continue;
                    samples++;
                    self.merge(name(frames.get(0)), 1L, Long::sum);
                    Set<String> seen = new HashSet<>();
                    for (RecordedFrame f : frames) if (seen.add(name(f))) total.merge(name(f), 1L, Long::sum);
                }
                case "jdk.ObjectAllocationSample" -> {
                    if (e.getThread("eventThread") == null || allocatingThreads.add(e.getThread("eventThread").getId())) continue;
                    String cls = e.getClass("objectClass").getName();
                    if (cls.startsWith("jdk.jfr.")) continue; // the recorder's own
                    long w = e.getLong("weight");
                    allocBytes += w;
                    allocByClass.merge(cls, w, Long::sum);
                    List<RecordedFrame> frames = frames(e.getStackTrace());
                    String site = frames.isEmpty() ? "?" : firstInteresting(frames);
                    allocBySite.merge(cls + " <- " + site, w, Long::sum);
                    allocByProject.merge(firstProjectFrame(frames), w, Long::sum);
                }
                case "jdk.ThreadAllocationStatistics" -> {
                    if (e.getThread("thread") == null) continue;
                    String t = e.getThread("thread").getJavaName() + "#" + e.getThread("thread").getJavaThreadId();
                    long v = e.getLong("allocated");
                    allocatedByThread.computeIfAbsent(t, k -> new long[] {v, v})[1] = v;
                }
                case "jdk.GarbageCollection" -> {
                    gcCount++;
                    Duration d = e.getDuration("sumOfPauses");
                    gcTotal = gcTotal.plus(d);
                    if (d.compareTo(gcLongest) > 0) gcLongest = d;
                    gcByName.merge(e.getString("name"), 1L, Long::sum);
                }
                default -> { }
            }
        }

        System.out.printf(Locale.ROOT, "== CPU samples by thread (all threads) ==%n");
        print(byThread, sum(byThread), top, "samples");
        System.out.printf(Locale.ROOT, "%n== Hot methods, self (top frame), threads '%s*': %d samples ==%n", threadPrefix, samples);
        print(self, samples, top, "samples");
        System.out.printf(Locale.ROOT, "%n== Hot methods, total (on stack), threads '%s*' ==%n", threadPrefix);
        print(total, samples, top, "samples");
        System.out.printf(Locale.ROOT, "%n== Allocation by class (sampled weight, all threads): %.1f MiB ==%n", allocBytes / 1048576.0);
        print(allocByClass, allocBytes, 15, "bytes");
        System.out.printf(Locale.ROOT, "%n== Allocation by class <- first project/codec frame ==%n");
        print(allocBySite, allocBytes, top, "bytes");
        System.out.printf(Locale.ROOT, "%n== Allocation by the first io.modelegress frame on the stack (Netty's own when none) ==%n");
        print(allocByProject, allocBytes, 20, "bytes");
        if (requests > 0) {
            long all = 0, io = 0;
            for (Map.Entry<String, long[]> en : allocatedByThread.entrySet()) {
                long d = en.getValue()[1] - en.getValue()[0];
                all += d;
                if (en.getKey().startsWith(threadPrefix)) io += d;
            }
            System.out.printf(Locale.ROOT, "%n== Allocated per request (jdk.ThreadAllocationStatistics, %d requests) ==%n", requests);
            System.out.printf(Locale.ROOT, "ALLOC bytes_per_request_all_threads=%d bytes_per_request_%s=%d%n",
                    all / requests, threadPrefix.isEmpty() ? "threads" : threadPrefix, io / requests);
        }
        System.out.printf(Locale.ROOT, "%n== GC: %d collections %s, total pause %.1f ms, longest %.2f ms ==%n", gcCount, gcByName,
                gcTotal.toNanos() / 1e6, gcLongest.toNanos() / 1e6);
    }

    private static List<RecordedFrame> frames(RecordedStackTrace st) {
        return st == null ? List.of() : st.getFrames();
    }

    private static String name(RecordedFrame f) {
        RecordedMethod m = f.getMethod();
        return m == null ? "?" : m.getType().getName() + "." + m.getName();
    }

    /** The first frame that is not JDK/allocator plumbing: where the allocation was asked for. */
    private static String firstInteresting(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            String n = name(f);
            if (n.startsWith("java.") || n.startsWith("jdk.") || n.startsWith("sun.") || n.startsWith("io.netty.buffer.")
                    || n.startsWith("io.netty.util.Recycler") || n.startsWith("io.netty.util.internal.")) continue;
            return n;
        }
        return name(frames.get(0));
    }

    private static String firstProjectFrame(List<RecordedFrame> frames) {
        for (RecordedFrame f : frames) {
            String n = name(f);
            if (n.startsWith("io.modelegress.")) return n;
        }
        return "(no project frame: Netty codec, transport or pool)";
    }

    private static String threadGroup(String thread) {
        if (thread == null) return "?";
        return thread.replaceAll("[-_ ]?\\d+$", "").replaceAll("-\\d+-", "-N-");
    }

    private static long sum(Map<String, Long> m) {
        long s = 0;
        for (long v : m.values()) s += v;
        return s;
    }

    private static void print(Map<String, Long> counts, long whole, int top, String unit) {
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(en -> System.out.printf(Locale.ROOT, "%6.1f%%  %12d %s  %s%n",
                        whole == 0 ? 0.0 : 100.0 * en.getValue() / whole, en.getValue(), unit, en.getKey()));
    }
}
