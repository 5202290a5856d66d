package io.modelegress.core.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.modelegress.core.retry.CommitGate.Hold;
import io.modelegress.core.retry.CommitGate.Step;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CommitGateTest {
    private static final long ERR = 64 * 1024;
    private static final long UNCOMMITTED = 1 << 20;

    /** A piece of body: bytes, completed a data event, last. */
    record Piece(long bytes, boolean data, boolean last) {}

    private static Piece p(long bytes, boolean data, boolean last) { return new Piece(bytes, data, last); }

    static Stream<Arguments> responses() {
        return Stream.of(
                Arguments.of("200 json: committed at its head", 200, false, false, Hold.NOTHING,
                        new Piece[]{p(100, false, false), p(10, false, true)}, new Step[]{Step.COMMIT, Step.COMMIT}),
                Arguments.of("204: nothing to hold", 204, true, false, Hold.NOTHING, new Piece[]{p(0, false, true)}, new Step[]{Step.COMMIT}),
                Arguments.of("429 held whole, judged at its end", 429, false, false, Hold.ERROR_BODY,
                        new Piece[]{p(100, false, false), p(100, false, true)}, new Step[]{Step.HOLD, Step.JUDGE}),
                Arguments.of("500 in one piece", 500, false, false, Hold.ERROR_BODY, new Piece[]{p(300, false, true)}, new Step[]{Step.JUDGE}),
                Arguments.of("500 larger than the hold: committed unjudged", 500, false, false, Hold.ERROR_BODY,
                        new Piece[]{p(ERR, false, false), p(1, false, false), p(5, false, true)}, new Step[]{Step.HOLD, Step.COMMIT, Step.COMMIT}),
                Arguments.of("500 of exactly the hold, then its end", 500, false, false, Hold.ERROR_BODY,
                        new Piece[]{p(ERR, false, false), p(0, false, true)}, new Step[]{Step.HOLD, Step.JUDGE}),
                Arguments.of("a 4xx event stream is an error answer", 400, false, true, Hold.ERROR_BODY,
                        new Piece[]{p(10, true, false), p(0, false, true)}, new Step[]{Step.HOLD, Step.JUDGE}),
                Arguments.of("stream: pings held, first event judged, then relayed", 200, false, true, Hold.FIRST_EVENT,
                        new Piece[]{p(20, false, false), p(20, false, false), p(80, true, false), p(80, true, false)},
                        new Step[]{Step.HOLD, Step.HOLD, Step.JUDGE, Step.COMMIT}),
                Arguments.of("stream that ends before any event", 200, false, true, Hold.FIRST_EVENT,
                        new Piece[]{p(20, false, false), p(0, false, true)}, new Step[]{Step.HOLD, Step.JUDGE}),
                Arguments.of("stream: a flood of comments is committed past the bound", 200, false, true, Hold.FIRST_EVENT,
                        new Piece[]{p(UNCOMMITTED, false, false), p(1, false, false), p(1, true, false)},
                        new Step[]{Step.HOLD, Step.COMMIT, Step.COMMIT}),
                Arguments.of("HEAD answered 200 text/event-stream has no body", 200, true, true, Hold.FIRST_EVENT,
                        new Piece[]{p(0, false, true)}, new Step[]{Step.JUDGE}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("responses")
    void holdsUntilTheCommitPoint(String name, int status, boolean bodiless, boolean sse, Hold hold, Piece[] pieces, Step[] steps) {
        CommitGate g = CommitGate.forResponse(status, bodiless, sse, ERR, UNCOMMITTED);
        assertEquals(hold, g.hold());
        assertEquals(hold != Hold.NOTHING, g.holding());
        for (int i = 0; i < pieces.length; i++) {
            assertEquals(steps[i], g.onContent(pieces[i].bytes(), pieces[i].data(), pieces[i].last()), "piece " + i);
        }
        assertEquals(false, g.holding());
    }
}
