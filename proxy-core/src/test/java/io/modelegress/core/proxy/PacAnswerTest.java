package io.modelegress.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PacAnswerTest {
    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            PROXY a:3128; PROXY b:3128; DIRECT       | http://a:3128 http://b:3128 DIRECT | 0
            proxy a:3128;DIRECT;                     | http://a:3128 DIRECT              | 0
            HTTPS secure.corp:443                    | https://secure.corp:443           | 0
            SOCKS s:1080; SOCKS5 t:1081              | socks5://s:1080 socks5://t:1081   | 0
            HTTP h:8080                              | http://h:8080                     | 0
            PROXY [fd00::1]:3128                     | http://[fd00::1]:3128             | 0
            ''                                       | DIRECT                            | 0
            -                                        | DIRECT                            | 0
            PROXY; QUIC q:443; PROXY ok:1            | http://ok:1                       | 2
            FTP x:21                                 | DIRECT                            | 1
            PROXY bad:99999; DIRECT                  | DIRECT                            | 1
            """)
    void parsesTheFailoverListInOrder(String answer, String expected, int ignored) {
        PacAnswer a = PacAnswer.parse(answer);
        List<String> got = a.steps().stream().map(s -> s.isDirect() ? "DIRECT" : s.proxy().scheme().text() + "://" + s.proxy().authority()).toList();
        assertEquals(List.of(expected.split(" ")), got);
        assertEquals(ignored, a.ignored().size(), a.ignored().toString());
    }
}
