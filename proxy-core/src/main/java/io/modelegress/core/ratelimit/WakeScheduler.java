package io.modelegress.core.ratelimit;

/**
 * Runs a task later without blocking anyone. The server implements it with an event loop's timer
 * ({@code (task, delay) -> loop.schedule(task, delay, NANOSECONDS)}); tests with a fake clock.
 * A task that runs late or more than once is harmless: the limiter re-reads the clock when it wakes.
 */
@FunctionalInterface
public interface WakeScheduler {
    void schedule(Runnable task, long delayNanos);
}
