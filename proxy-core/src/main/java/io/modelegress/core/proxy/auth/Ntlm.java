package io.modelegress.core.proxy.auth;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * NTLM for proxy authentication, NTLMv2 only ([MS-NLMP]): the NEGOTIATE message, the proxy's CHALLENGE, and the
 * AUTHENTICATE message with the NTLMv2 response. NTLMv1 and LM responses are never computed: a proxy that only
 * speaks them is refused ({@link Challenge#legacyOnly()}). HMAC-MD5 comes from the JDK; MD4 from {@link Md4}.
 * Each value is checked against the [MS-NLMP] 4.2.4 test vectors (NtlmTest).
 */
public final class Ntlm {
    static final int NEGOTIATE_UNICODE = 0x00000001;
    static final int REQUEST_TARGET = 0x00000004;
    static final int NEGOTIATE_NTLM = 0x00000200;
    static final int NEGOTIATE_ALWAYS_SIGN = 0x00008000;
    static final int NEGOTIATE_EXTENDED_SESSIONSECURITY = 0x00080000;
    static final int NEGOTIATE_TARGET_INFO = 0x00800000;
    static final int NEGOTIATE_128 = 0x20000000;
    static final int NEGOTIATE_56 = 0x80000000;
    private static final byte[] SIGNATURE = "NTLMSSP\0".getBytes(StandardCharsets.US_ASCII);
    private static final int AV_EOL = 0;
    private static final int AV_TIMESTAMP = 7;
    /** 100ns intervals between 1601-01-01 and 1970-01-01. */
    private static final long FILETIME_EPOCH_OFFSET = 116_444_736_000_000_000L;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Ntlm() {}

    /** The flags we ask for: Unicode, NTLM with extended session security, 128-bit; never LM. */
    static final int CLIENT_FLAGS = NEGOTIATE_UNICODE | REQUEST_TARGET | NEGOTIATE_NTLM | NEGOTIATE_ALWAYS_SIGN
            | NEGOTIATE_EXTENDED_SESSIONSECURITY | NEGOTIATE_128 | NEGOTIATE_56;

    /** Message 1, as the {@code Proxy-Authorization: NTLM ...} token. */
    public static String negotiateToken() {
        ByteBuffer b = le(32);
        b.put(SIGNATURE).putInt(1).putInt(CLIENT_FLAGS);
        b.putShort((short) 0).putShort((short) 0).putInt(32); // domain: none (sent in message 3)
        b.putShort((short) 0).putShort((short) 0).putInt(32); // workstation: none
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** Message 2 as the proxy sent it. */
    public record Challenge(int flags, byte[] serverChallenge, byte[] targetInfo, String targetName) {
        /**
         * A challenge from a server that can only do NTLMv1/LM: no target info and no extended session security.
         * We never answer it with a v1 response (those are crackable offline).
         */
        public boolean legacyOnly() {
            return targetInfo.length == 0 && (flags & NEGOTIATE_EXTENDED_SESSIONSECURITY) == 0;
        }

        /** The server's MsvAvTimestamp (FILETIME), or -1. */
        long timestamp() {
            ByteBuffer b = ByteBuffer.wrap(targetInfo).order(ByteOrder.LITTLE_ENDIAN);
            while (b.remaining() >= 4) {
                int id = b.getShort() & 0xffff;
                int len = b.getShort() & 0xffff;
                if (id == AV_EOL || len > b.remaining()) return -1;
                if (id == AV_TIMESTAMP && len == 8) return b.getLong();
                b.position(b.position() + len);
            }
            return -1;
        }
    }

    /**
     * Parses message 2 from the token after {@code NTLM } in {@code Proxy-Authenticate}.
     * @throws IllegalArgumentException when it is not a well-formed CHALLENGE_MESSAGE
     */
    public static Challenge parseChallenge(String token) {
        byte[] m;
        try {
            m = Base64.getDecoder().decode(token.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the NTLM challenge is not base64");
        }
        if (m.length < 32 || !Arrays.equals(Arrays.copyOf(m, 8), SIGNATURE)) {
            throw new IllegalArgumentException("the NTLM challenge has no NTLMSSP signature");
        }
        ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        if (b.getInt(8) != 2) throw new IllegalArgumentException("expected NTLM message 2, got type " + b.getInt(8));
        int flags = b.getInt(20);
        byte[] challenge = Arrays.copyOfRange(m, 24, 32);
        // Some servers (Squid's test helper among them) leave these fields as garbage when their flag is off.
        byte[] targetInfo = m.length >= 48 && (flags & NEGOTIATE_TARGET_INFO) != 0 ? field(m, b, 40) : new byte[0];
        byte[] name = lenientField(m, b, 12);
        String targetName = new String(name, (flags & NEGOTIATE_UNICODE) != 0 ? StandardCharsets.UTF_16LE : StandardCharsets.ISO_8859_1);
        return new Challenge(flags, challenge, targetInfo, targetName);
    }

    /** Message 3 for {@code challenge}, as the {@code Proxy-Authorization: NTLM ...} token. */
    public static String authenticateToken(Challenge challenge, String domain, String user, String password, String workstation) {
        byte[] clientChallenge = new byte[8];
        RANDOM.nextBytes(clientChallenge);
        long now = System.currentTimeMillis() * 10_000 + FILETIME_EPOCH_OFFSET;
        return Base64.getEncoder().encodeToString(authenticate(challenge, domain, user, password, workstation, clientChallenge, now));
    }

    static byte[] authenticate(Challenge c, String domain, String user, String password, String workstation,
                               byte[] clientChallenge, long filetime) {
        if (c.legacyOnly()) throw new IllegalArgumentException("the proxy offers only NTLMv1/LM, which is refused");
        String dom = domain == null ? "" : domain;
        byte[] key = ntowfV2(password, user, dom);
        long serverTime = c.timestamp();
        byte[] temp = temp(serverTime >= 0 ? serverTime : filetime, clientChallenge, c.targetInfo());
        byte[] proof = ntProofStr(key, c.serverChallenge(), temp);
        byte[] nt = concat(proof, temp);
        // With a server timestamp the LMv2 response is all zeros ([MS-NLMP] 3.1.5.1.2).
        byte[] lm = serverTime >= 0 ? new byte[24] : lmV2(key, c.serverChallenge(), clientChallenge);
        // Strings in the server's choice: Unicode when it agreed to it, else the OEM form ([MS-NLMP] 2.2.2.5).
        java.nio.charset.Charset cs = (c.flags() & NEGOTIATE_UNICODE) != 0 ? StandardCharsets.UTF_16LE : StandardCharsets.ISO_8859_1;
        byte[] domainBytes = dom.getBytes(cs);
        byte[] userBytes = user.getBytes(cs);
        byte[] wsBytes = (workstation == null ? "" : workstation).getBytes(cs);
        int offset = 64;
        ByteBuffer b = le(offset + lm.length + nt.length + domainBytes.length + userBytes.length + wsBytes.length);
        b.put(SIGNATURE).putInt(3);
        offset = fieldHeader(b, lm.length, offset);
        offset = fieldHeader(b, nt.length, offset);
        offset = fieldHeader(b, domainBytes.length, offset);
        offset = fieldHeader(b, userBytes.length, offset);
        offset = fieldHeader(b, wsBytes.length, offset);
        fieldHeader(b, 0, offset); // no encrypted session key: no key exchange is negotiated
        b.putInt(CLIENT_FLAGS & c.flags());
        b.put(lm).put(nt).put(domainBytes).put(userBytes).put(wsBytes);
        return b.array();
    }

    /** NTOWFv2: HMAC_MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain)). */
    static byte[] ntowfV2(String password, String user, String domain) {
        byte[] ntHash = Md4.digest(password.getBytes(StandardCharsets.UTF_16LE));
        return hmac(ntHash, (user.toUpperCase(Locale.ROOT) + domain).getBytes(StandardCharsets.UTF_16LE));
    }

    static byte[] ntowfV1(String password) {
        return Md4.digest(password.getBytes(StandardCharsets.UTF_16LE));
    }

    /** The NTLMv2 client blob ("temp" in [MS-NLMP] 3.3.2). */
    static byte[] temp(long filetime, byte[] clientChallenge, byte[] targetInfo) {
        ByteBuffer b = le(28 + targetInfo.length + 4);
        b.put((byte) 1).put((byte) 1).put(new byte[6]).putLong(filetime).put(clientChallenge).putInt(0).put(targetInfo).putInt(0);
        return b.array();
    }

    static byte[] ntProofStr(byte[] key, byte[] serverChallenge, byte[] temp) {
        return hmac(key, concat(serverChallenge, temp));
    }

    static byte[] lmV2(byte[] key, byte[] serverChallenge, byte[] clientChallenge) {
        return concat(hmac(key, concat(serverChallenge, clientChallenge)), clientChallenge);
    }

    static byte[] sessionBaseKey(byte[] key, byte[] ntProofStr) {
        return hmac(key, ntProofStr);
    }

    private static byte[] field(byte[] m, ByteBuffer b, int at) {
        int len = b.getShort(at) & 0xffff;
        int off = b.getInt(at + 4);
        if (len == 0) return new byte[0];
        if (off < 0 || off + len > m.length) throw new IllegalArgumentException("the NTLM challenge has a field outside the message");
        return Arrays.copyOfRange(m, off, off + len);
    }

    private static byte[] lenientField(byte[] m, ByteBuffer b, int at) {
        try {
            return field(m, b, at);
        } catch (IllegalArgumentException e) {
            return new byte[0];
        }
    }

    private static int fieldHeader(ByteBuffer b, int len, int offset) {
        b.putShort((short) len).putShort((short) len).putInt(offset);
        return offset + len;
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacMD5");
            mac.init(new SecretKeySpec(key, "HmacMD5"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacMD5 unavailable in this JDK", e);
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(a.length + b.length);
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
