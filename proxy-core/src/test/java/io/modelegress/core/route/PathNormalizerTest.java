package io.modelegress.core.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathNormalizerTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            # plain paths are untouched
            /v1/chat/completions                      | /v1/chat/completions
            /                                         | /
            /v1/models/                               | /v1/models/
            # the query string is kept byte for byte, dots, escapes and all
            /v1/chat?x=1&y=%2F..                      | /v1/chat?x=1&y=%2F..
            /v1/chat?                                 | /v1/chat?
            /v1/a/../chat?next=/../../x               | /v1/chat?next=/../../x
            # . and .. segments (RFC 3986 5.2.4)
            /v1/./chat/completions                    | /v1/chat/completions
            /v1/a/../chat/completions                 | /v1/chat/completions
            /v1/a/b/../../chat                        | /v1/chat
            /v1/a/..                                  | /v1/
            /v1/.                                     | /v1/
            /v1/a/..?x=1                              | /v1/?x=1
            /v1/..                                    | /
            # dots that are part of a name are not dot segments
            /v1/models/gpt-4.1                        | /v1/models/gpt-4.1
            /v1/...                                   | /v1/...
            /v1/..x/.y                                | /v1/..x/.y
            # percent-encoded dots, any case, alone or mixed with literal dots
            /v1/a/%2e%2e/chat                         | /v1/chat
            /v1/a/%2E%2E/chat                         | /v1/chat
            /v1/a/%2E./chat                           | /v1/chat
            /v1/a/.%2e/chat                           | /v1/chat
            /v1/%2e/chat                              | /v1/chat
            # unreserved characters are decoded, everything else is kept as sent
            /v1/%41%62c                               | /v1/Abc
            /v1/%7E%7euser                            | /v1/~~user
            /v1/%2D%5F%30                             | /v1/-_0
            /%761/chat                                | /v1/chat
            /v1/a%20b                                 | /v1/a%20b
            /v1/a%3Ab%3ac                             | /v1/a%3Ab%3ac
            /v1/%25%2e                                | /v1/%25.
            /v1/%252e%252e/x                          | /v1/%252e%252e/x
            # merge_slashes
            /v1//chat                                 | /v1/chat
            //v1///chat//completions                  | /v1/chat/completions
            /v1/chat//                                | /v1/chat/
            # ; parameters on an ordinary segment are kept
            /v1/chat;v=1/completions                  | /v1/chat;v=1/completions
            # refused: a .. above /
            /..                                       | REFUSED above /
            /v1/../..                                 | REFUSED above /
            /az/../../other-deploy/chat               | REFUSED above /
            /anthropic/../../x                        | REFUSED above /
            /v1/%2e%2e/%2e%2e/x                       | REFUSED above /
            /v1/%2E./.%2E/x                           | REFUSED above /
            //..//..//x                               | REFUSED above /
            # refused: ; parameters on a dot segment (Tomcat and friends read ..;x as ..)
            /v1/..;/admin                             | REFUSED parameter
            /v1/a/..;x=1/admin                        | REFUSED parameter
            /v1/.;/chat                               | REFUSED parameter
            /v1/%2e%2e;/admin                         | REFUSED parameter
            /v1/..%3B/admin                           | REFUSED parameter
            /v1/..%3b/admin                           | REFUSED parameter
            # refused: encoded / and \\ (Envoy path_with_escaped_slashes_action: REJECT_REQUEST), and a raw backslash
            /v1/..%2f..%2fx                           | REFUSED encoded
            /v1/a%2Fb                                 | REFUSED encoded
            /v1/a%5cb                                 | REFUSED encoded
            /v1/a%5Cb                                 | REFUSED encoded
            /v1/a\\..\\..\\x                          | REFUSED backslash
            # refused: malformed escapes, encoded control characters, a fragment, a relative path
            /v1/a%2                                   | REFUSED malformed
            /v1/a%zz                                  | REFUSED malformed
            /v1/a%00b                                 | REFUSED control
            /v1/a%0a                                  | REFUSED control
            /v1/a%7F                                  | REFUSED control
            /v1/chat#/../../x                         | REFUSED fragment
            v1/chat                                   | REFUSED start with /
            """)
    void normalisesOrRefuses(String input, String expected) {
        PathNormalizer.Result r = PathNormalizer.normalize(input);
        if (expected.startsWith("REFUSED ")) {
            PathNormalizer.Refused refused = assertInstanceOf(PathNormalizer.Refused.class, r, input + " must be refused");
            assertTrue(refused.reason().contains(expected.substring("REFUSED ".length())), refused.reason());
        } else {
            PathNormalizer.Normalized n = assertInstanceOf(PathNormalizer.Normalized.class, r, input);
            assertEquals(expected, n.pathAndQuery(), input);
            // Normalising a normalised path changes nothing (the upstream mapping relies on it).
            var again = assertInstanceOf(PathNormalizer.Normalized.class, PathNormalizer.normalize(n.pathAndQuery()));
            assertEquals(n.pathAndQuery(), again.pathAndQuery(), "idempotent on " + input);
            assertEquals(Integer.MAX_VALUE, again.lowestDepth(), "no .. left in " + n.pathAndQuery());
        }
    }

    @ParameterizedTest(name = "{0}: lowest depth {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /v1/chat/completions            | -1
            /v1/a/../chat                   | 1
            /v1/a/b/../../chat              | 1
            /openai/v1/x/../../v2/chat      | 1
            /v1/../other                    | 0
            /v1/./chat                      | -1
            """)
    void recordsHowHighTheDotDotsClimbed(String input, int lowest) {
        PathNormalizer.Normalized n = (PathNormalizer.Normalized) PathNormalizer.normalize(input);
        assertEquals(lowest < 0 ? Integer.MAX_VALUE : lowest, n.lowestDepth(), input);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /v1;x/chat           | /v1/chat
            /v1/chat;v=1/a;b     | /v1/chat/a
            /v1/chat?a=b;c       | NONE
            /v1/chat             | NONE
            """)
    void offersThePathWithoutParametersSoRoutingCanCheckTheyChangeNothing(String input, String expected) {
        PathNormalizer.Normalized n = (PathNormalizer.Normalized) PathNormalizer.normalize(input);
        if (expected.equals("NONE")) assertNull(n.withoutParams(), input);
        else assertEquals(expected, n.withoutParams(), input);
    }
}
