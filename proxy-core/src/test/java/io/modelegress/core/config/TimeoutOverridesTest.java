package io.modelegress.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link Timeouts.Overrides#isEmpty()} checks each field by hand (it runs per request): every component, a future one
 * included, must make it non-empty, or a route's only override would be ignored.
 */
class TimeoutOverridesTest {
    private static final RecordComponent[] COMPONENTS = Timeouts.Overrides.class.getRecordComponents();

    private static Timeouts.Overrides onlySet(int index, Duration d) throws Exception {
        Class<?>[] types = Arrays.stream(COMPONENTS).map(RecordComponent::getType).toArray(Class<?>[]::new);
        Constructor<Timeouts.Overrides> canonical = Timeouts.Overrides.class.getDeclaredConstructor(types);
        Object[] args = new Object[COMPONENTS.length];
        args[index] = d;
        return canonical.newInstance(args);
    }

    @Test
    void noneIsEmptyAndEachSingleOverrideIsNot() throws Exception {
        assertTrue(Timeouts.Overrides.NONE.isEmpty());
        assertEquals(11, COMPONENTS.length, "a new timeout: check it is in isEmpty() and in Timeouts.with()");
        for (int i = 0; i < COMPONENTS.length; i++) {
            assertFalse(onlySet(i, Duration.ofSeconds(7)).isEmpty(), COMPONENTS[i].getName() + " alone is an override");
        }
    }

    @Test
    void withAnEmptyOverrideIsTheSameTimeoutsAndWithOneTakesIt() throws Exception {
        Timeouts base = ConfigLoader.parse("timeouts: { request: 30s }\n", "t.yaml", k -> null).timeouts();
        assertSame(base, base.with(Timeouts.Overrides.NONE));
        int request = Arrays.asList(COMPONENTS).stream().map(RecordComponent::getName).toList().indexOf("request");
        assertEquals(Duration.ofSeconds(7), base.with(onlySet(request, Duration.ofSeconds(7))).request());
    }
}
