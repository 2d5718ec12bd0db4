package org.purse.jc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;

import javacard.security.AESKey;
import javacard.security.CryptoException;
import javacard.security.DESKey;
import javacard.security.KeyBuilder;

/** Helpers shared by the CryptoTest* classes. */
final class CryptoTestSupport {
    private CryptoTestSupport() {
    }

    static byte[] hex(String s) {
        s = s.replaceAll("\\s", "");
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }

    static String hex(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < len; i++) {
            sb.append(String.format("%02x", b[off + i] & 0xff));
        }
        return sb.toString();
    }

    static String hex(byte[] b) {
        return hex(b, 0, b.length);
    }

    static AESKey aesKey(String keyHex) {
        byte[] k = hex(keyHex);
        AESKey key = (AESKey) KeyBuilder.buildKey(KeyBuilder.TYPE_AES, (short) (k.length * 8), false);
        key.setKey(k, (short) 0);
        return key;
    }

    static DESKey desKey(String keyHex) {
        byte[] k = hex(keyHex);
        DESKey key = (DESKey) KeyBuilder.buildKey(KeyBuilder.TYPE_DES, (short) (k.length * 8), false);
        key.setKey(k, (short) 0);
        return key;
    }

    interface Op {
        void run();
    }

    static void expectReason(short reason, Op op) {
        try {
            op.run();
        } catch (CryptoException e) {
            assertEquals(reason, e.getReason(), "CryptoException reason");
            return;
        }
        fail("expected CryptoException with reason " + reason);
    }

    @SuppressWarnings("unchecked")
    static <T> T roundTrip(T o) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        ObjectOutputStream oos = new ObjectOutputStream(bos);
        oos.writeObject(o);
        oos.close();
        ObjectInputStream ois = new ObjectInputStream(new ByteArrayInputStream(bos.toByteArray()));
        return (T) ois.readObject();
    }
}
