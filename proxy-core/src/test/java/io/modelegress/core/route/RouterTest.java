package io.modelegress.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelegress.core.config.ConfigLoader;
import io.modelegress.core.config.EgressConfig;
import io.modelegress.core.config.RouteSettings;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RouterTest {
    private static final EgressConfig CONFIG = config(true);
    private static final EgressConfig NO_CATCH_ALL = config(false);

    private static EgressConfig config(boolean catchAll) {
        try {
            return ConfigLoader.parse(String.join("\n",
                    "upstreams:",
                    "  openai: { url: \"https://api.openai.com\" }",
                    "  azure: { url: \"https://corp.openai.azure.com/base/deploy\" }",
                    "  anthropic: { url: \"https://api.anthropic.com\" }",
                    "  local: { url: \"http://127.0.0.1:11434\" }",
                    "routes:",
                    "  - { name: openai, prefix: /v1, upstreams: [openai] }",
                    "  - { name: openai-v1-admin, prefix: /v1/admin, upstreams: [openai] }",
                    "  - { name: azure, prefix: /az, strip_prefix: true, upstreams: [azure] }",
                    "  - { name: nested, prefix: /org/team, strip_prefix: true, upstreams: [openai] }",
                    "  - { name: anthropic, prefix: /anthropic, strip_prefix: true, upstreams: [anthropic], dialect: anthropic }",
                    catchAll ? "  - { name: default, prefix: /, upstreams: [local] }" : "",
                    ""), "router-test.yaml", name -> null);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String describe(Router.Resolution r) {
        if (r instanceof Router.Routed ok) return ok.route().name() + " " + ok.uri();
        if (r instanceof Router.NotFound nf) return "404 " + nf.path();
        Router.Refused f = (Router.Refused) r;
        return "400 " + (f.route() == null ? "-" : f.route().name());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /v1/chat/completions                | openai /v1/chat/completions
            /v1/a/../chat/completions?x=1       | openai /v1/chat/completions?x=1
            /v1//chat/./completions             | openai /v1/chat/completions
            /%761/chat                          | openai /v1/chat
            /org/team/x/../v1/chat              | nested /org/team/v1/chat
            # a .. may remove only segments below the prefix, of the route the path names and of the one it lands on
            /v1/x/../admin/keys                 | 400 openai
            # the four attacks of issue 13: refused, in the dialect of the route the raw path names
            /az/../../other-deploy/chat         | 400 azure
            /anthropic/../../x                  | 400 anthropic
            /v1/%2e%2e/%2e%2e/x                 | 400 openai
            /v1/..;/admin                       | 400 openai
            # a .. that climbs out of the route's prefix, even when it lands on another route
            /az/../v1/chat                      | 400 azure
            /org/team/../../v1/chat             | 400 nested
            /org/team/../x                      | 400 nested
            /v1/admin/../../az/x                | 400 openai-v1-admin
            # a .. inside the catch-all's prefix / is fine: it cannot climb out of /
            /x/../y                             | default /y
            # a ;parameter that an upstream would strip must not select a different route
            /v1;x/chat                          | 400 default
            /v1/admin;x/keys                    | 400 openai
            /v1/chat;v=2                        | openai /v1/chat;v=2
            # encoded separators are refused
            /az/deploy%2F..%2F..%2Fother        | 400 azure
            /v1\\..\\admin                      | 400 default
            """)
    void routesTheNormalisedPathAndRefusesWhatLeavesTheRoute(String target, String expected) {
        Router router = new Router(CONFIG.routes());
        assertEquals(expected, describe(router.resolve(target, () -> null)), target);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /anthropic/v1/../../x   | 400 anthropic
            /az/../x                | 400 azure
            /x/../v1/chat           | 400 openai
            /nothing/here           | 404 /nothing/here
            /nothing//here/.        | 404 /nothing/here/
            """)
    void withoutACatchAllADotPathOutOfItsRouteIsStillABadRequest(String target, String expected) {
        Router router = new Router(NO_CATCH_ALL.routes());
        assertEquals(expected, describe(router.resolve(target, () -> null)), target);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /az/chat/completions?api-version=1  | /base/deploy/chat/completions?api-version=1
            /az/x/../chat                       | /base/deploy/chat
            /az                                 | /base/deploy/
            /az?x=1                             | /base/deploy/?x=1
            /anthropic/v1/messages              | /v1/messages
            /v1/chat/completions                | /v1/chat/completions
            """)
    void upstreamPathOfTheNormalisedTargetStaysUnderTheBasePath(String target, String expected) {
        Router router = new Router(CONFIG.routes());
        Router.Routed ok = assertInstanceOf(Router.Routed.class, router.resolve(target, () -> null), target);
        String base = CONFIG.upstream(ok.route().upstreams().get(0).upstream()).basePath();
        String upstream = Router.upstreamPath(ok.route(), base, ok.uri());
        assertEquals(expected, upstream);
        assertTrue(upstream.startsWith(base + "/"), upstream);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            /az/../../other-deploy/chat
            /az/a/../../../x
            /az/..%2Fx
            /az/..;/x
            /az/a/../x
            /az//x
            """)
    void upstreamPathRefusesATargetThatWasNotNormalised(String target) {
        RouteSettings azure = CONFIG.routes().stream().filter(r -> r.name().equals("azure")).findFirst().orElseThrow();
        assertThrows(IllegalArgumentException.class, () -> Router.upstreamPath(azure, "/base/deploy", target));
    }

    /** Most upstreams have no base path: the agent's target goes up as it is, not copied (once per request, issue 20). */
    @org.junit.jupiter.api.Test
    void upstreamPathWithoutABasePathIsTheTargetItself() {
        Router router = new Router(CONFIG.routes());
        Router.Routed ok = assertInstanceOf(Router.Routed.class, router.resolve("/v1/chat/completions", () -> null));
        String target = ok.uri();
        assertSame(target, Router.upstreamPath(ok.route(), "", target));
    }
}
