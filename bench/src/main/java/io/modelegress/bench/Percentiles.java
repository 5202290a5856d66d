package io.modelegress.bench;

import java.util.Arrays;

/** Nearest-rank percentiles over a set of samples, as wrk and most load tools report them. */
final class Percentiles {
    private final long[] sorted;

    Percentiles(long[] samples, int count) {
        this.sorted = Arrays.copyOf(samples, count);
        Arrays.sort(sorted);
    }

    int count() { return sorted.length; }

    /** The smallest sample with at least {@code p} percent of the samples at or below it; 0 when there are none. */
    long at(double p) {
        if (sorted.length == 0) return 0;
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    double mean() {
        if (sorted.length == 0) return 0;
        double sum = 0;
        for (long v : sorted) sum += v;
        return sum / sorted.length;
    }
}
