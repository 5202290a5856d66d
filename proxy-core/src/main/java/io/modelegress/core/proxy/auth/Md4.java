package io.modelegress.core.proxy.auth;

/**
 * MD4 (RFC 1320), needed only for the NT hash NTLM is defined on ({@code MD4(UTF-16LE(password))}): the JDK ships
 * no MD4 provider and no library on hand offers it without taking in a whole crypto or HTTP stack. Not used for
 * anything else; checked against every test vector of RFC 1320 (Md4Test).
 */
final class Md4 {
    private Md4() {}

    static byte[] digest(byte[] message) {
        int n = message.length;
        int padded = ((n + 8) / 64 + 1) * 64;
        byte[] m = new byte[padded];
        System.arraycopy(message, 0, m, 0, n);
        m[n] = (byte) 0x80;
        long bits = (long) n * 8;
        for (int i = 0; i < 8; i++) m[padded - 8 + i] = (byte) (bits >>> (8 * i));
        int a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
        int[] x = new int[16];
        for (int block = 0; block < padded; block += 64) {
            for (int i = 0; i < 16; i++) {
                int o = block + 4 * i;
                x[i] = (m[o] & 0xff) | (m[o + 1] & 0xff) << 8 | (m[o + 2] & 0xff) << 16 | (m[o + 3] & 0xff) << 24;
            }
            int aa = a, bb = b, cc = c, dd = d;
            for (int i : new int[] {0, 4, 8, 12}) {
                a = r1(a, b, c, d, x[i], 3);
                d = r1(d, a, b, c, x[i + 1], 7);
                c = r1(c, d, a, b, x[i + 2], 11);
                b = r1(b, c, d, a, x[i + 3], 19);
            }
            for (int i : new int[] {0, 1, 2, 3}) {
                a = r2(a, b, c, d, x[i], 3);
                d = r2(d, a, b, c, x[i + 4], 5);
                c = r2(c, d, a, b, x[i + 8], 9);
                b = r2(b, c, d, a, x[i + 12], 13);
            }
            for (int i : new int[] {0, 2, 1, 3}) {
                a = r3(a, b, c, d, x[i], 3);
                d = r3(d, a, b, c, x[i + 8], 9);
                c = r3(c, d, a, b, x[i + 4], 11);
                b = r3(b, c, d, a, x[i + 12], 15);
            }
            a += aa;
            b += bb;
            c += cc;
            d += dd;
        }
        byte[] out = new byte[16];
        int[] words = {a, b, c, d};
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) out[4 * i + j] = (byte) (words[i] >>> (8 * j));
        return out;
    }

    private static int r1(int a, int b, int c, int d, int x, int s) {
        return Integer.rotateLeft(a + ((b & c) | (~b & d)) + x, s);
    }

    private static int r2(int a, int b, int c, int d, int x, int s) {
        return Integer.rotateLeft(a + ((b & c) | (b & d) | (c & d)) + x + 0x5a827999, s);
    }

    private static int r3(int a, int b, int c, int d, int x, int s) {
        return Integer.rotateLeft(a + (b ^ c ^ d) + x + 0x6ed9eba1, s);
    }
}
