package io.modelegress.core.proxy.pac;

import io.modelegress.core.proxy.IpLiterals;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import org.mozilla.javascript.BaseFunction;
import org.mozilla.javascript.Context;
import org.mozilla.javascript.Scriptable;
import org.mozilla.javascript.ScriptableObject;

/**
 * The native side of the PAC functions: the only doors from the script to DNS, our addresses and the clock. They
 * are plain functions, not Java objects, so the class shutter (which refuses every Java class) never sees them.
 */
final class PacFunctions {
    private PacFunctions() {}

    static void install(ScriptableObject scope, PacHost host) {
        define(scope, "__dnsResolveAll", (cx, s, args) -> array(cx, s, host.resolve(arg(args, 0))));
        define(scope, "__myAddresses", (cx, s, args) -> array(cx, s, host.myAddresses()));
        define(scope, "__isLiteral", (cx, s, args) -> IpLiterals.isLiteral(arg(args, 0)));
        define(scope, "__inPrefix", (cx, s, args) -> IpLiterals.inPrefix(arg(args, 0), arg(args, 1)));
        define(scope, "__now", (cx, s, args) -> {
            ZonedDateTime now = host.now();
            if (args.length > 0 && Boolean.TRUE.equals(args[0])) now = now.withZoneSameInstant(ZoneOffset.UTC);
            Object[] parts = {(double) now.getYear(), (double) now.getMonthValue() - 1, (double) now.getDayOfMonth(),
                (double) (now.getDayOfWeek().getValue() % 7), (double) now.getHour(), (double) now.getMinute(), (double) now.getSecond()};
            return cx.newArray(s, parts);
        });
    }

    private interface Native {
        Object call(Context cx, Scriptable scope, Object[] args);
    }

    private static void define(ScriptableObject scope, String name, Native body) {
        BaseFunction f = new BaseFunction() {
            @Override
            public Object call(Context cx, Scriptable s, Scriptable thisObj, Object[] args) {
                return body.call(cx, s, args);
            }

            @Override
            public String getFunctionName() {
                return name;
            }
        };
        ScriptableObject.defineProperty(scope, name, f, ScriptableObject.DONTENUM | ScriptableObject.READONLY | ScriptableObject.PERMANENT);
    }

    private static String arg(Object[] args, int i) {
        return i < args.length && args[i] != null ? Context.toString(args[i]) : "";
    }

    private static Scriptable array(Context cx, Scriptable scope, List<String> values) {
        return cx.newArray(scope, values.toArray(new Object[0]));
    }
}
