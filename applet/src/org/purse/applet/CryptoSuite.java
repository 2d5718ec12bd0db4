/*
 * purse: block ciphers, CMAC, KDF, RNG and constant-time compare (docs/protocol.md section 2).
 * JavaCard 3.0.4 classic: short/byte arithmetic only, allocation only in the constructor.
 */
package org.purse.applet;

import javacard.framework.JCSystem;
import javacard.framework.Util;
import javacard.security.AESKey;
import javacard.security.CryptoException;
import javacard.security.DESKey;
import javacard.security.Key;
import javacard.security.KeyBuilder;
import javacard.security.MessageDigest;
import javacard.security.RandomData;
import javacardx.crypto.Cipher;

/**
 * The algorithm always follows the key object: an AES key means suite 01 (block 16), a DES key
 * suite 02 (3-key TDES, block 8). CMAC (NIST SP 800-38B) is computed over the ECB cipher, since JC
 * 3.0.4 has no CMAC signature. Any CryptoException (algorithm missing, key not set) is turned into
 * ISOException 6985 so that no 6F00 escapes (here, or by Purse.process's catch-all for the
 * one-call paths: the running CMAC, the CBC pass of sessionKeys / mac8Fixed).
 */
public final class CryptoSuite {

    // scratch layout (transient, CLEAR_ON_DESELECT)
    private static final short S_W = (short) 0;      // CMAC: the running-CMAC window (W_LEN)
    private static final short W_LEN = (short) 112;
    private static final short S_TAG = (short) 112;  // full CMAC tag for mac8 / the transport KDF (one block)
    /**
     * L, then K1 or K2, during a CMAC; the packet mask during stream() (aliases S_TAG: wiped before
     * the tag is written).
     */
    private static final short S_SUB = S_TAG;
    private static final short S_KEY = (short) 128;  // derived or random key (24)
    private static final short S_MSG = (short) 152;  // KDF input: [i] | LABEL(8) | 00 | CONTEXT | [L]2
    private static final short KDF_FIXED = (short) 12;
    /** The transport KDF's context (protocol.md 2.3): RH | RC, 16 bytes. */
    public static final short KDF_CTX_MAX = (short) 16;
    private static final short S_K1 = (short) (S_MSG + KDF_FIXED + KDF_CTX_MAX); // 180: K1 of engine i at S_K1 + 16 i
    /** OFB keystream chunk (stream()): W, TAG, KEY and MSG, all free between calls; a multiple of both blocks. */
    private static final short S_KS = S_W;
    private static final short KS_LEN = (short) 176;
    /** Engines: NE encrypt (CBC, IV 0: CMAC, the OFB keystream); no decrypt engine (protocol.md 2.4). */
    private static final short NE = (short) 7;
    /** Transient work keys per family: the transport channel's ENC and MAC, the session's K_S. */
    private static final short NW = (short) 3;
    private static final short S_OK = (short) (S_K1 + 16 * NE); // 292: per engine: OK_K1
    private static final short S_RR = (short) (S_OK + NE);      // 299: next victim
    private static final short S_PERSIST = (short) (S_RR + 1);  // 300: a persistent key was set
    private static final short SCRATCH_LEN = (short) (S_PERSIST + 1); // 301
    private static final byte OK_K1 = (byte) 1;   // K1 of the engine's key is at S_K1 + 16 i
    private static final short KS_D_LEN = Constants.KS_D_LEN;
    private static final short CBC_MAC_LEN = Constants.CBC_MAC_LEN;

    private final RandomData rng;
    /** SHA-256 for the passbook digest (protocol.md 12.5.3). */
    final MessageDigest sha;
    private final byte[] scratch;
    /**
     * Key each engine is initialised with (transient, CLEAR_ON_DESELECT: a new session re-inits,
     * as the transient work keys are cleared too). An engine is re-initialised only when its key changed (setKey) or it was evicted.
     */
    private final Object[] ref;
    // Per family, allocated on first use of the family (a card uses one suite: one set of
    // transient work keys and engines). [0] is the probe allocated at install (supports()).
    private final Cipher[] aesEnc;
    private final Cipher[] desEnc;
    /** Transient work keys, index = slot (0..2); null until the family is first used. */
    private final Key[] aesWork;
    private final Key[] desWork;
    /**
     * Held engines (CBC, IV 0), persistent: [H_INT] for K_INT (mac8Fixed), [H_AK] for the
     * session's application key (sessionKeys). A Cipher keeps its key and mode across resets (JC
     * 3.0.4 Cipher), so heldOk[i] = 1 says engine i holds heldKey[i] and needs no Cipher.init.
     * It is set only in a session that set no persistent key and outside a transaction, after the
     * init; heldOk is written non-atomically (an abort never restores a 1) and cleared before any
     * persistent setKey.
     */
    private final Cipher[] held;
    private final Object[] heldKey;
    private final byte[] heldOk;
    static final short H_INT = (short) 0;
    static final short H_AK = (short) 1;

    public CryptoSuite() {
        scratch = JCSystem.makeTransientByteArray(SCRATCH_LEN, JCSystem.CLEAR_ON_DESELECT);
        ref = JCSystem.makeTransientObjectArray(NE, JCSystem.CLEAR_ON_DESELECT);
        rng = RandomData.getInstance(RandomData.ALG_SECURE_RANDOM);
        sha = MessageDigest.getInstance(MessageDigest.ALG_SHA_256, false);
        aesWork = new Key[NW];
        desWork = new Key[NW];
        held = new Cipher[2];
        heldKey = new Object[2];
        heldOk = new byte[2];
        aesEnc = new Cipher[NE];
        desEnc = new Cipher[NE];
        aesEnc[0] = probe(Cipher.ALG_AES_BLOCK_128_CBC_NOPAD);
        desEnc[0] = probe(Cipher.ALG_DES_CBC_NOPAD);
    }

    private static Cipher probe(byte alg) {
        Cipher c = null;
        try {
            c = Cipher.getInstance(alg, false);
        } catch (CryptoException e) {
            c = null;
        }
        return c;
    }

    /** Allocates the family's engines and work keys once (first use; never inside a session's hot path again). */
    private void ensure(boolean aes) {
        Cipher[] e = aes ? aesEnc : desEnc;
        Key[] w = aes ? aesWork : desWork;
        if (w[(short) (NW - 1)] != null) {
            return;
        }
        if (e[0] == null) {
            Purse.conditions();
        }
        byte alg = aes ? Cipher.ALG_AES_BLOCK_128_CBC_NOPAD : Cipher.ALG_DES_CBC_NOPAD;
        try {
            for (short i = (short) 1; i < NE; i++) {
                if (e[i] == null) {
                    e[i] = Cipher.getInstance(alg, false);
                }
            }
            for (short i = 0; i < NW; i++) {
                if (w[i] == null) {
                    // if/else, not ?: on references: javac then needs java.lang's box classes, absent from the card API
                    if (aes) {
                        w[i] = KeyBuilder.buildKey(KeyBuilder.TYPE_AES_TRANSIENT_DESELECT, KeyBuilder.LENGTH_AES_128, false);
                    } else {
                        w[i] = KeyBuilder.buildKey(KeyBuilder.TYPE_DES_TRANSIENT_DESELECT, KeyBuilder.LENGTH_DES3_3KEY, false);
                    }
                }
            }
        } catch (CryptoException ex) {
            Purse.conditions();
        }
    }

    // ------------------------------------------------------------------ suites and keys

    public boolean supports(byte suite) {
        if (suite == Constants.SUITE_AES128) {
            return aesEnc[0] != null;
        }
        return suite == Constants.SUITE_TDES3 && desEnc[0] != null;
    }

    public static short blockLen(byte suite) {
        return suite == Constants.SUITE_TDES3 ? Constants.BLOCK_TDES : Constants.BLOCK_AES;
    }

    public static short keyLen(byte suite) {
        return suite == Constants.SUITE_TDES3 ? Constants.KEYLEN_TDES : Constants.KEYLEN_AES;
    }

    /** SUITE_AES128 for any AES key type, SUITE_TDES3 for any DES key type, SUITE_NONE otherwise. */
    public static byte suiteOf(Key k) {
        byte t = k.getType();
        if (t == KeyBuilder.TYPE_AES || t == KeyBuilder.TYPE_AES_TRANSIENT_DESELECT
                || t == KeyBuilder.TYPE_AES_TRANSIENT_RESET) {
            return Constants.SUITE_AES128;
        }
        if (t == KeyBuilder.TYPE_DES || t == KeyBuilder.TYPE_DES_TRANSIENT_DESELECT
                || t == KeyBuilder.TYPE_DES_TRANSIENT_RESET) {
            return Constants.SUITE_TDES3;
        }
        return Constants.SUITE_NONE;
    }

    /** Allocates a persistent key (call only from constructors / one-time personalisation). */
    public Key buildPersistentKey(byte suite) {
        if (!supports(suite)) {
            Purse.wrongData();
        }
        Key k = null;
        try {
            if (suite == Constants.SUITE_AES128) {
                k = KeyBuilder.buildKey(KeyBuilder.TYPE_AES, KeyBuilder.LENGTH_AES_128, false);
            } else {
                k = KeyBuilder.buildKey(KeyBuilder.TYPE_DES, KeyBuilder.LENGTH_DES3_3KEY, false);
            }
        } catch (CryptoException e) {
            Purse.wrongData();
        }
        return k;
    }

    /** K_INT (Balance), a persistent key; with the held engines of its suite (the card's). */
    public Key buildInternalKey(byte suite) {
        Key k = buildPersistentKey(suite); // the suite is supported: so is its engine
        byte alg = suite == Constants.SUITE_AES128 ? Cipher.ALG_AES_BLOCK_128_CBC_NOPAD : Cipher.ALG_DES_CBC_NOPAD;
        held[H_INT] = probe(alg);
        held[H_AK] = probe(alg);
        return k;
    }

    /** Transient work key of the suite: slot 0/1 = transport ENC/MAC, 2 = the session's K_S
     * (the issuer also puts a blank card's TK into 2 for one command, to derive its transport keys). */
    public Key workKey(byte suite, byte slot) {
        if (!supports(suite) || slot < 0 || slot >= NW) {
            Purse.wrongData();
        }
        boolean aes = suite == Constants.SUITE_AES128;
        ensure(aes);
        if (aes) {
            return aesWork[slot];
        }
        return desWork[slot];
    }

    /**
     * Sets 16 (AES) or 24 (TDES) bytes from src[off]. Engines initialised with k are dropped (a
     * card may copy the key into the cipher at init). A persistent key may be rolled back by an
     * aborted transaction without this class noticing: once one was set, engines of persistent
     * keys are re-initialised at every use for the rest of the session.
     */
    public void setKey(Key k, byte[] src, short off) {
        boolean work = isWork(k);
        if (work && k.isInitialized()) {
            // a work key reloaded with its own value (a slot's K_S back into the work keys):
            // keep it and its engines (saves setKey, the inits and the CMAC subkey)
            short kl = keyLen(suiteOf(k));
            getKey(k, scratch, S_W); // W is free between calls; src may be scratch[S_KEY]
            boolean same = equalsCT(scratch, S_W, src, off, kl);
            Util.arrayFillNonAtomic(scratch, S_W, kl, (byte) 0);
            if (same) {
                return;
            }
        }
        for (short i = 0; i < NE; i++) {
            if (ref[i] == k) {
                ref[i] = null;
            }
        }
        if (!work) {
            scratch[S_PERSIST] = (byte) 1;
            Util.arrayFillNonAtomic(heldOk, (short) 0, (short) 2, (byte) 0);
        }
        try {
            if (suiteOf(k) == Constants.SUITE_AES128) {
                ((AESKey) k).setKey(src, off);
            } else {
                ((DESKey) k).setKey(src, off);
            }
        } catch (CryptoException e) {
            Purse.conditions();
        }
    }

    private boolean isWork(Key k) {
        for (short i = 0; i < NW; i++) {
            if (k == aesWork[i] || k == desWork[i]) {
                return true;
            }
        }
        return false;
    }

    /** Writes the key value (16 or 24 bytes) to out[off]; returns its length. */
    public short getKey(Key k, byte[] out, short off) {
        short n = (short) 0;
        try {
            if (suiteOf(k) == Constants.SUITE_AES128) {
                n = (short) ((AESKey) k).getKey(out, off);
            } else {
                n = (short) ((DESKey) k).getKey(out, off);
            }
        } catch (CryptoException e) {
            Purse.conditions();
        }
        return n;
    }

    /** Fills the key with RNG bytes (APPKEYs at genesis, K_INT). */
    public void randomKey(Key k) {
        short n = keyLen(suiteOf(k));
        random(scratch, S_KEY, n);
        setKey(k, scratch, S_KEY);
        Util.arrayFillNonAtomic(scratch, S_KEY, n, (byte) 0);
    }

    public void random(byte[] buf, short off, short len) {
        try {
            rng.generateData(buf, off, len);
        } catch (CryptoException e) {
            Purse.conditions();
        }
    }

    // ------------------------------------------------------------------ engines

    /**
     * Index of an encrypt engine initialised with k. Cipher.init only when no engine holds k (or k
     * is persistent after a persistent setKey this session). The engine is CBC with IV 0: after
     * each doFinal it is back at IV 0.
     */
    private short engine(Key k) {
        byte s = suiteOf(k);
        if (s != Constants.SUITE_AES128 && s != Constants.SUITE_TDES3) {
            Purse.conditions();
        }
        boolean aes = s == Constants.SUITE_AES128;
        ensure(aes);
        short i = (short) -1;
        for (short j = 0; j < NE; j++) {
            if (ref[j] == k) {
                i = j;
            }
        }
        boolean stale = i < 0 || (scratch[S_PERSIST] != 0 && !isWork(k));
        if (!stale) {
            return i;
        }
        if (i < 0) {
            // a free engine, else the next one round robin
            for (short j = (short) (NE - 1); j >= 0; j--) {
                if (ref[j] == null) {
                    i = j;
                }
            }
            if (i < 0) {
                i = (short) (scratch[S_RR] % NE);
                scratch[S_RR] = (byte) ((short) (i + 1) % NE);
            }
        }
        ref[i] = null;
        scratch[(short) (S_OK + i)] = (byte) 0;
        Cipher c = cipher(aes, i);
        try {
            c.init(k, Cipher.MODE_ENCRYPT);
        } catch (CryptoException e) {
            Purse.conditions();
        }
        ref[i] = k;
        return i;
    }

    private Cipher cipher(boolean aes, short e) {
        if (aes) {
            return aesEnc[e];
        }
        return desEnc[e];
    }

    private Cipher cipherOf(Key k, short e) {
        return cipher(suiteOf(k) == Constants.SUITE_AES128, e);
    }

    private static void xor(byte[] dst, short dOff, byte[] src, short sOff, short len) {
        for (short i = 0; i < len; i++) {
            dst[(short) (dOff + i)] ^= src[(short) (sOff + i)];
        }
    }

    /**
     * OFB (protocol.md 2.4): data[off, off + len) ^= the keystream of k from IV = (iv[ivOff, ivOff + 8)
     * | 00..) XOR the packet mask of mask (the packet's MAC key, of k's suite: AES its K1, TDES its
     * K2 = dbl(K1), the subkey no packet MAC of the suite ends with; K1 cached, so no cipher call of
     * its own). CBC encryption with IV 0 of IV | 00 | 00 .. gives E(IV), E(E(IV)), ..., the OFB
     * keystream: one doFinal through the IV-0 encrypt engine per KS_LEN bytes (every packet but the
     * largest I1); a next chunk starts from the last keystream block. len a multiple of the block;
     * iv must not be in this class's scratch. Encrypts and decrypts alike.
     */
    public void stream(Key k, Key mask, byte[] iv, short ivOff, byte[] data, short off, short len) {
        short b = blockLen(suiteOf(k));
        if (len <= 0 || (short) (len % b) != 0) {
            Purse.conditions();
        }
        byte[] s = scratch;
        // first: its L pass uses S_SUB, inside S_KS
        Util.arrayCopyNonAtomic(s, subkey(mask, engine(mask)), s, S_SUB, b);
        if (b == Constants.BLOCK_TDES) {
            dbl(b); // K2: every TDES packet's MAC ends with K1, every AES one's with K2
        }
        Cipher c = cipherOf(k, engine(k));
        Util.arrayCopyNonAtomic(s, S_SUB, s, S_KS, b);
        xor(s, S_KS, iv, ivOff, Constants.MAC_LEN);
        while (len > 0) {
            short n = len;
            if (n > KS_LEN) {
                n = KS_LEN;
            }
            Util.arrayFillNonAtomic(s, (short) (S_KS + b), (short) (n - b), (byte) 0);
            try {
                c.doFinal(s, S_KS, n, s, S_KS);
            } catch (CryptoException e) {
                Purse.conditions();
            }
            xor(data, off, s, S_KS, n);
            off = (short) (off + n);
            len = (short) (len - n);
            Util.arrayCopyNonAtomic(s, (short) (S_KS + n - b), s, S_KS, b);
        }
        Util.arrayFillNonAtomic(s, S_KS, KS_LEN, (byte) 0);
    }

    // ------------------------------------------------------------------ CMAC (protocol.md 2.2)

    /** dbl() of the b-byte block at scratch[S_SUB]: shift left one bit, XOR Rb if the top bit fell out. */
    private void dbl(short b) {
        byte rb = b == Constants.BLOCK_TDES ? Constants.RB_TDES : Constants.RB_AES;
        byte[] s = scratch;
        short carry = (short) 0;
        short last = (short) (S_SUB + b - 1);
        for (short i = last; i >= S_SUB; i--) {
            short v = s[i];
            s[i] = (byte) ((short) (v << 1) | carry);
            carry = (short) ((v >> 7) & 1);
        }
        // constant-time conditional XOR of Rb
        s[last] ^= (byte) (rb & (byte) (-carry));
    }

    /**
     * Full CMAC tag (block length bytes) of msg into out[outOff]; returns the block length.
     * The running CMAC below with the scratch window: one doFinal per W_LEN bytes of message (one
     * for every packet up to 112 bytes), K1 from the engine's cache.
     */
    public short cmac(Key k, byte[] msg, short off, short len, byte[] out, short outOff) {
        byte[] s = scratch;
        Util.arrayFillNonAtomic(s, S_W, W_LEN, (byte) 0);
        short t = finish(k, runUpdate(k, (short) 0, s, S_W, W_LEN, msg, off, len), s, S_W);
        short b = blockLen(suiteOf(k));
        Util.arrayCopyNonAtomic(s, t, out, outOff, b);
        Util.arrayFillNonAtomic(s, S_W, W_LEN, (byte) 0);
        return b;
    }

    // ------------------------------------------------------------------ running CMAC (protocol.md 2.2: cmac's window)
    //
    // A window w[wo, wo + wl) (wl a multiple of the block, at least two blocks) holds
    // (X | 00..) XOR the fill bytes waiting, X the CBC chaining value (0 at the start): the bytes
    // after fill are X's (first block) or zero. When the window is full and more bytes arrive, one
    // doFinal (IV 0) encrypts it in place; its last block is the new X, moved to the first block,
    // the rest zeroed. The last block waits for finish(), which gives the CMAC of everything
    // absorbed. So a message of L bytes costs ceil(L / wl) doFinal calls, however it is split
    // between calls: a real card pays for the call, not its length.

    /** Absorbs len bytes of src into the window holding fill bytes; returns the new fill. */
    private short runUpdate(Key k, short fill, byte[] w, short wo, short wl, byte[] src, short off, short len) {
        short b = blockLen(suiteOf(k));
        while (len > 0) {
            if (fill == wl) {
                cipherOf(k, engine(k)).doFinal(w, wo, wl, w, wo);
                Util.arrayCopyNonAtomic(w, (short) (wo + wl - b), w, wo, b);
                Util.arrayFillNonAtomic(w, (short) (wo + b), (short) (wl - b), (byte) 0);
                fill = (short) 0;
            }
            short n = (short) 1;
            if (fill < b) {
                w[(short) (wo + fill)] ^= src[off]; // onto X
            } else {
                n = (short) (wl - fill);
                if (n > len) {
                    n = len;
                }
                Util.arrayCopyNonAtomic(src, off, w, (short) (wo + fill), n);
            }
            fill = (short) (fill + n);
            off = (short) (off + n);
            len = (short) (len - n);
        }
        return fill;
    }

    /**
     * The last waiting block (the window's fill bytes end in it): complete -> XOR K1, else the pad
     * 80 00.. and XOR K2 (the empty message: one pad block); one doFinal over the waiting blocks.
     * Returns the offset of the tag (one block) in w.
     */
    private short finish(Key k, short fill, byte[] w, short wo) {
        short b = blockLen(suiteOf(k));
        short e = engine(k);
        Cipher c = cipherOf(k, e);
        short lead = (short) ((short) ((short) (fill - 1) / b) * b); // 0 for fill 0
        short rest = (short) (fill - lead);
        short p = (short) (wo + lead);
        Util.arrayCopyNonAtomic(scratch, subkey(k, e), scratch, S_SUB, b);
        if (rest < b) {
            dbl(b); // K2
            w[(short) (p + rest)] ^= Constants.PAD_BYTE;
        }
        xor(w, p, scratch, S_SUB, b);
        c.doFinal(w, wo, (short) (lead + b), w, wo);
        return p;
    }

    /**
     * K1 of k (engine e) in the engine's cache, computed once per key per session (L = E(0^b) and
     * K1 = dbl(L) at S_SUB, which the computation leaves holding K1); returns the cache's offset.
     * S_SUB is not wiped after use: K1 stays cached at S_K1 for the session anyway.
     */
    private short subkey(Key k, short e) {
        short b = blockLen(suiteOf(k));
        byte[] s = scratch;
        short k1 = (short) (S_K1 + (short) (e * 16));
        if (s[(short) (S_OK + e)] == 0) {
            Util.arrayFillNonAtomic(s, S_SUB, b, (byte) 0);
            cipherOf(k, e).doFinal(s, S_SUB, b, s, S_SUB);
            dbl(b);
            Util.arrayCopyNonAtomic(s, S_SUB, s, k1, b);
            s[(short) (S_OK + e)] = OK_K1;
        }
        return k1;
    }

    /** MAC8: first 8 bytes of the CMAC into out[outOff]. */
    public void mac8(Key k, byte[] msg, short off, short len, byte[] out, short outOff) {
        cmac(k, msg, off, len, scratch, S_TAG);
        Util.arrayCopyNonAtomic(scratch, S_TAG, out, outOff, Constants.MAC_LEN);
    }

    /** Constant-time check of an 8-byte tag. */
    public boolean mac8Verify(Key k, byte[] msg, short off, short len, byte[] tag, short tagOff) {
        cmac(k, msg, off, len, scratch, S_TAG);
        return equalsCT(scratch, S_TAG, tag, tagOff, Constants.MAC_LEN);
    }

    /** Compares len bytes touching every byte (no early exit, no Util.arrayCompare). */
    public static boolean equalsCT(byte[] a, short aOff, byte[] b, short bOff, short len) {
        byte diff = (byte) 0;
        for (short i = 0; i < len; i++) {
            diff |= (byte) (a[(short) (aOff + i)] ^ b[(short) (bOff + i)]);
        }
        return diff == (byte) 0;
    }

    // ------------------------------------------------------------------ key derivation (protocol.md 2.3)

    /**
     * Session key K_S (protocol.md 2.3): D = tag | ctx[ctxOff, ctxOff + 15) (SID | k | RP), 16
     * bytes; out gets the last keyLen bytes of CBC(ki, IV 0, D | 00..), one doFinal over
     * 16 + keyLen - block bytes (AES 16: E(D); TDES 32): CBC-MAC(D) and the blocks that follow it.
     */
    public void sessionKeys(Key ki, byte tag, byte[] ctx, short ctxOff, byte[] out, short outOff) {
        short kl = keyLen(suiteOf(ki));
        short n = (short) (KS_D_LEN + kl - blockLen(suiteOf(ki)));
        byte[] s = scratch;
        Util.arrayFillNonAtomic(s, S_W, n, (byte) 0);
        s[S_W] = tag;
        Util.arrayCopyNonAtomic(ctx, ctxOff, s, (short) (S_W + 1), (short) (KS_D_LEN - 1));
        cbc(ki, n, H_AK);
        Util.arrayCopyNonAtomic(s, (short) (S_W + n - kl), out, outOff, kl);
        Util.arrayFillNonAtomic(s, S_W, n, (byte) 0);
    }

    /**
     * MAC8 of a card-internal key (K_INT, protocol.md 3): msg (at most 31 bytes: 25 or 15) padded 80 00.. to
     * exactly CBC_MAC_LEN bytes, CBC-MAC of that, the first 8 bytes of the last block into out.
     * One fixed input length, so plain CBC-MAC is a PRF: one doFinal and no CMAC subkey. msg may
     * overlap out (it is copied first).
     */
    public void mac8Fixed(Key k, byte[] msg, short off, short len, byte[] out, short outOff) {
        if (len < 0 || len >= CBC_MAC_LEN) {
            Purse.conditions(); // never silently MAC a prefix
        }
        byte[] s = scratch;
        Util.arrayFillNonAtomic(s, S_W, CBC_MAC_LEN, (byte) 0);
        Util.arrayCopyNonAtomic(msg, off, s, S_W, len);
        s[(short) (S_W + len)] = Constants.PAD_BYTE;
        cbc(k, CBC_MAC_LEN, H_INT);
        Util.arrayCopyNonAtomic(s, (short) (S_W + CBC_MAC_LEN - blockLen(suiteOf(k))), out, outOff, Constants.MAC_LEN);
        Util.arrayFillNonAtomic(s, S_W, CBC_MAC_LEN, (byte) 0);
    }

    /**
     * CBC encryption with IV 0 of scratch[S_W, S_W + n) in place on held engine h: one doFinal (a
     * CryptoException: Purse.process's catch-all, 6985).
     */
    private void cbc(Key k, short n, short h) {
        Cipher c = held[h];
        boolean persist = scratch[S_PERSIST] != 0;
        if (c == null) {
            c = cipherOf(k, engine(k)); // no K_INT allocated (not personalised): a shared engine
        } else if (persist || heldOk[h] == 0 || heldKey[h] != k) {
            mark(h, (byte) 0);
            c.init(k, Cipher.MODE_ENCRYPT);
            if (!persist && JCSystem.getTransactionDepth() == 0) {
                heldKey[h] = k;
                mark(h, (byte) 1);
            }
        }
        try {
            c.doFinal(scratch, S_W, n, scratch, S_W);
        } catch (CryptoException e) {
            mark(h, (byte) 0); // not initialised (a card that does not keep it): the next use inits
            throw e;
        }
    }

    /** heldOk[h] = v, non-atomically, written only if it differs. */
    private void mark(short h, byte v) {
        if (heldOk[h] != v) {
            Util.arrayFillNonAtomic(heldOk, h, (short) 1, v);
        }
    }

    /**
     * Transport keys (protocol.md 2.3): SP 800-108 counter mode, K(i) = CMAC(ki, [i] | "PURSE " l0 l1 |
     * 00 | ctx | [L]_2), 2 * keyLen bytes; ENC key = first keyLen, MAC key = next keyLen (ki's suite).
     * kEnc must not be ki (it is set before the MAC half is derived); kMac may be.
     */
    public void deriveInto(Key ki, byte l0, byte l1, byte[] ctx, short ctxOff, short ctxLen,
                           Key kEnc, Key kMac) {
        if (kEnc == ki || ctxLen < 0 || ctxLen > KDF_CTX_MAX) {
            Purse.conditions();
        }
        short kl = keyLen(suiteOf(ki));
        // [i] | "PURSE " l0 l1 | 00 | ctx | [L]_2 at scratch[S_MSG], i set per block
        byte[] s = scratch;
        short m = S_MSG;
        Util.setShort(s, (short) (m + 1), (short) 0x5055); // "PU"
        Util.setShort(s, (short) (m + 3), (short) 0x5253); // "RS"
        Util.setShort(s, (short) (m + 5), (short) 0x4520); // "E "
        s[(short) (m + 7)] = l0;
        s[(short) (m + 8)] = l1;
        s[(short) (m + 9)] = (byte) 0;
        Util.arrayCopyNonAtomic(ctx, ctxOff, s, (short) (m + 10), ctxLen);
        Util.setShort(s, (short) (m + 10 + ctxLen), (short) (kl << 4)); // L = 2 * kl * 8 bits
        short msgLen = (short) (KDF_FIXED + ctxLen);
        byte i = (byte) 1;
        for (short half = 0; half < (short) 2; half++) {
            short done = (short) 0;
            while (done < kl) {
                s[m] = i;
                short n = cmac(ki, s, m, msgLen, s, S_TAG); // blocks divide kl: 16/16, 8/24
                Util.arrayCopyNonAtomic(s, S_TAG, s, (short) (S_KEY + done), n);
                done = (short) (done + n);
                i++;
            }
            Key k = kMac;
            if (half == 0) {
                k = kEnc;
            }
            setKey(k, s, S_KEY);
        }
        Util.arrayFillNonAtomic(s, S_TAG, (short) (S_K1 - S_TAG), (byte) 0); // TAG (= SUB), KEY, MSG
    }
}
