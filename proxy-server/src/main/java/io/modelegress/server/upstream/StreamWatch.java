package io.modelegress.server.upstream;

import io.modelegress.core.error.ErrorCode;
import io.modelegress.core.ratelimit.ResponseUsage;
import io.modelegress.core.resume.SentText;
import io.modelegress.core.sse.SseScanner;
import io.modelegress.core.sse.StreamCompletion;
import io.netty.buffer.ByteBuf;

/**
 * What the sidecar reads in an event stream as it passes, without holding it: data events (progress for the commit
 * point and stream_idle), the usage it reports, the text it forwarded (for a resume), an in-band error a resume
 * continues from, and whether the upstream finished it. One per streamed response, on its event loop.
 */
final class StreamWatch {
    private final SseScanner scanner = new SseScanner();
    private final SentText sent;
    private final boolean resumesInBandErrors;
    /** Where, in the buffer last scanned, an in-band error event began that a resume continues instead (or -1). */
    private int inBandErrorAt = -1;
    /** The stream's last bytes were scanned but never forwarded (a cut at its end): the agent does not have them. */
    private boolean lostTail;

    /** {@code usage} and {@code resume} may be null. */
    StreamWatch(ResponseUsage usage, StreamResume resume) {
        sent = resume == null ? null : new SentText(resume.maxBuffer());
        resumesInBandErrors = sent != null && resume.resumes(ErrorCode.UPSTREAM_STREAM_ERROR);
        if (usage != null && sent != null) {
            scanner.onEvent(data -> {
                usage.onEvent(data);
                sent.onEvent(data);
            });
        } else if (usage != null) {
            scanner.onEvent(usage::onEvent);
        } else if (sent != null) {
            scanner.onEvent(sent::onEvent);
        }
    }

    /** Scans {@code b}; returns the data events it completed (stopping at an in-band error a resume continues). */
    int scan(ByteBuf b) {
        if (resumesInBandErrors) return scanToInBandError(b);
        int[] completed = {0};
        b.forEachByte(x -> {
            if (scanner.accept(x)) completed[0]++;
            return true;
        });
        return completed[0];
    }

    private int scanToInBandError(ByteBuf b) {
        int completed = 0;
        int eventStart = b.readerIndex();
        inBandErrorAt = -1;
        for (int i = b.readerIndex(); i < b.writerIndex(); i++) {
            if (scanner.accept(b.getByte(i))) {
                completed++;
                if (sent.takeInBandError()) {
                    inBandErrorAt = eventStart;
                    return completed;
                }
            }
            if (scanner.atEventBoundary()) eventStart = i + 1;
        }
        return completed;
    }

    /** Where the in-band error of the last scanned buffer began, or -1. */
    int inBandErrorAt() { return inBandErrorAt; }

    String firstEventData() { return scanner.firstEventData(); }

    StreamCompletion completion() { return scanner.completion(); }

    void lostTail(boolean lost) { lostTail = lost; }

    /** What was forwarded, when a continuation can pick up from it (the agent has no half event); else null. */
    SentText sentForResume() {
        return sent != null && !lostTail && scanner.atEventBoundary() ? sent : null;
    }

    /**
     * Why the stream, ending now, was cut (null: it may end here). A model stream must have been finished by its
     * upstream — a finish reason or an end marker — whatever the transport said; a stream of no known model API is
     * cut only when its connection closed before an end marker.
     */
    String cutReason(boolean connectionOpen) {
        StreamCompletion sc = scanner.completion();
        if (sc.api() == StreamCompletion.Api.UNKNOWN) {
            return !scanner.sawEnd() && !connectionOpen ? "closed before its end marker" : null;
        }
        return sc.complete() ? null : "no finish reason and no end marker";
    }
}
