package io.modelegress.core.proxy.pac;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WpadTest {
    @ParameterizedTest(name = "[{index}] {0} + {1}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            build7.eu.corp.example.com | -               | http://wpad.eu.corp.example.com/wpad.dat http://wpad.corp.example.com/wpad.dat http://wpad.example.com/wpad.dat
            HOST.Corp.Example.         | -               | http://wpad.corp.example/wpad.dat
            laptop                     | -               | -
            laptop                     | corp.example    | http://wpad.corp.example/wpad.dat
            a.corp.example             | corp.example    | http://wpad.corp.example/wpad.dat
            a.example.com              | -               | http://wpad.example.com/wpad.dat
            """)
    void triesEachParentDomainButNeverABareTld(String fqdn, String search, String expected) {
        List<String> domains = search == null ? List.of() : Arrays.asList(search.split(","));
        List<String> want = expected == null ? List.of() : Arrays.asList(expected.split(" "));
        assertEquals(want, Wpad.candidates(fqdn, domains));
    }
}
