package io.modelegress.core.proxy.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/**
 * The [MS-NLMP] 4.2.4 NTLMv2 test vectors: User "User", domain "Domain", password "Password", server challenge
 * 0123456789abcdef, client challenge aa..aa, time 0, and the CHALLENGE_MESSAGE of 4.2.4.3.
 */
class NtlmTest {
    static byte[] hex(String s) { return HexFormat.of().parseHex(s.replace(" ", "")); }

    static final byte[] CHALLENGE_MESSAGE = hex("4e544c4d53535000 02000000 0c000c0038000000 33828ae2 0123456789abcdef"
            + " 0000000000000000 2400240044000000 060070170000000f 530065007200760065007200"
            + " 02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000");
    static final byte[] SERVER_CHALLENGE = hex("0123456789abcdef");
    static final byte[] CLIENT_CHALLENGE = hex("aaaaaaaaaaaaaaaa");
    static final byte[] TEMP = hex("0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000"
            + "02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000 00000000");

    static Ntlm.Challenge challenge() {
        return Ntlm.parseChallenge(Base64.getEncoder().encodeToString(CHALLENGE_MESSAGE));
    }

    @Test
    void ntowfV1OfPassword() {
        assertEquals("a4f49c406510bdcab6824ee7c30fd852", HexFormat.of().formatHex(Ntlm.ntowfV1("Password")));
    }

    @Test
    void ntowfV2() {
        assertArrayEquals(hex("0c868a403bfd7a93a3001ef22ef02e3f"), Ntlm.ntowfV2("Password", "User", "Domain"));
    }

    @Test
    void parsesTheChallengeMessage() {
        Ntlm.Challenge c = challenge();
        assertArrayEquals(SERVER_CHALLENGE, c.serverChallenge());
        assertEquals(0xe28a8233, c.flags());
        assertEquals("Server", c.targetName());
        assertEquals(36, c.targetInfo().length);
        assertFalse(c.legacyOnly());
        assertEquals(-1, c.timestamp(), "the vector's target info has no MsvAvTimestamp");
    }

    @Test
    void tempBlobProofStrLmv2AndSessionBaseKey() {
        Ntlm.Challenge c = challenge();
        byte[] temp = Ntlm.temp(0, CLIENT_CHALLENGE, c.targetInfo());
        assertArrayEquals(TEMP, temp);
        byte[] key = Ntlm.ntowfV2("Password", "User", "Domain");
        byte[] proof = Ntlm.ntProofStr(key, SERVER_CHALLENGE, temp);
        assertArrayEquals(hex("68cd0ab851e51c96aabc927bebef6a1c"), proof, "NTProofStr");
        assertArrayEquals(hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"), Ntlm.lmV2(key, SERVER_CHALLENGE, CLIENT_CHALLENGE), "LMv2");
        assertArrayEquals(hex("8de40ccadbc14a82f15cb0ad0de95ca3"), Ntlm.sessionBaseKey(key, proof), "SessionBaseKey");
    }

    @Test
    void theAuthenticateMessageCarriesTheVectorResponsesInItsFields() {
        byte[] m = Ntlm.authenticate(challenge(), "Domain", "User", "Password", "COMPUTER", CLIENT_CHALLENGE, 0);
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(3, b.getInt(8));
        byte[] lm = field(m, b, 12);
        byte[] nt = field(m, b, 20);
        assertArrayEquals(hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa"), lm);
        assertArrayEquals(hex("68cd0ab851e51c96aabc927bebef6a1c"), Arrays.copyOf(nt, 16));
        assertArrayEquals(TEMP, Arrays.copyOfRange(nt, 16, nt.length));
        assertEquals("Domain", new String(field(m, b, 28), StandardCharsets.UTF_16LE));
        assertEquals("User", new String(field(m, b, 36), StandardCharsets.UTF_16LE));
        assertEquals("COMPUTER", new String(field(m, b, 44), StandardCharsets.UTF_16LE));
        assertEquals(0, field(m, b, 52).length, "no session key exchange");
    }

    @Test
    void theNegotiateMessageAsksForNtlmWithExtendedSessionSecurityAndNeverLm() {
        byte[] m = Base64.getDecoder().decode(Ntlm.negotiateToken());
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("NTLMSSP\0", new String(m, 0, 8, StandardCharsets.US_ASCII));
        assertEquals(1, b.getInt(8));
        int flags = b.getInt(12);
        assertTrue((flags & Ntlm.NEGOTIATE_EXTENDED_SESSIONSECURITY) != 0 && (flags & Ntlm.NEGOTIATE_NTLM) != 0);
        assertEquals(0, flags & 0x80, "NTLMSSP_NEGOTIATE_LM_KEY is never asked for");
    }

    @Test
    void aLegacyOnlyChallengeIsRefused() {
        byte[] m = Arrays.copyOf(CHALLENGE_MESSAGE, 48);
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(20, 0x00008201); // unicode, NTLM, always sign: no extended session security, no target info
        b.putShort(12, (short) 0).putShort(14, (short) 0);
        b.putShort(40, (short) 0).putShort(42, (short) 0);
        Ntlm.Challenge c = Ntlm.parseChallenge(Base64.getEncoder().encodeToString(m));
        assertTrue(c.legacyOnly());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ntlm.authenticateToken(c, "D", "u", "p", null));
        assertTrue(e.getMessage().contains("NTLMv1"), e.getMessage());
    }

    @Test
    void aServerTimestampIsUsedAndTheLmResponseIsZero() {
        byte[] info = hex("0700080000e1f50500000000 00000000"); // MsvAvTimestamp = 100_000_000, EOL
        Ntlm.Challenge c = new Ntlm.Challenge(0xe28a8233, SERVER_CHALLENGE, info, "Server");
        byte[] m = Ntlm.authenticate(c, "Domain", "User", "Password", null, CLIENT_CHALLENGE, 999);
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        assertArrayEquals(new byte[24], field(m, b, 12));
        byte[] nt = field(m, b, 20);
        assertEquals(100_000_000L, ByteBuffer.wrap(nt, 24, 8).order(ByteOrder.LITTLE_ENDIAN).getLong());
    }

    @Test
    void squidsTestHelperChallengeWithGarbageFieldsIsReadAndAnsweredInOemStrings() {
        // ntlm_fake_auth's real challenge: no Unicode, no target info flag, a target name offset pointing nowhere.
        Ntlm.Challenge c = Ntlm.parseChallenge("TlRMTVNTUAACAAAACQAJAK6qqqoGgggAs7274zW3MacAAAAAAAA6AFdPUktHUk9VUA==");
        assertEquals(0, c.targetInfo().length);
        assertFalse(c.legacyOnly(), "extended session security is on: NTLMv2 is answered");
        byte[] m = Ntlm.authenticate(c, "CORP", "alice", "pw", null, CLIENT_CHALLENGE, 0);
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals("alice", new String(field(m, b, 36), StandardCharsets.ISO_8859_1));
        assertEquals(0, b.getInt(60) & Ntlm.NEGOTIATE_UNICODE);
    }

    @Test
    void garbageIsNotAChallenge() {
        assertThrows(IllegalArgumentException.class, () -> Ntlm.parseChallenge("not base64!"));
        assertThrows(IllegalArgumentException.class, () -> Ntlm.parseChallenge(Base64.getEncoder().encodeToString(new byte[40])));
    }

    static byte[] field(byte[] m, ByteBuffer b, int at) {
        int len = b.getShort(at) & 0xffff;
        int off = b.getInt(at + 4);
        return Arrays.copyOfRange(m, off, off + len);
    }
}
