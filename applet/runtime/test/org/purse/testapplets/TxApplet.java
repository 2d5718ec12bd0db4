package org.purse.testapplets;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.OwnerPIN;
import javacard.framework.TransactionException;
import javacard.framework.Util;

/** Test subject for the engine tests (JavaCard classic subset, built with --release 7). */
public class TxApplet extends Applet {
    static short s;
    static byte[] sarr2;
    short a;
    byte b;
    Object ref;
    byte[] arr;
    short[] sarr;
    Object[] oarr;
    byte[] trd;
    byte[] trr;
    boolean[] trb;
    OwnerPIN pin;
    short selects;
    short deselects;
    byte[] params;
    Helper helper;
    Inner inner;

    /** Inner class: its constructor stores this$0 before calling super() (instrumenter must cope). */
    class Inner {
        byte x;

        Inner(byte x) {
            this.x = x;
        }

        byte outerB() {
            return b;
        }
    }

    TxApplet(byte[] bArray, short off, byte len) {
        arr = new byte[16];
        sarr = new short[4];
        oarr = new Object[2];
        sarr2 = new byte[4];
        trd = JCSystem.makeTransientByteArray((short) 4, JCSystem.CLEAR_ON_DESELECT);
        trr = JCSystem.makeTransientByteArray((short) 4, JCSystem.CLEAR_ON_RESET);
        trb = JCSystem.makeTransientBooleanArray((short) 1, JCSystem.CLEAR_ON_RESET);
        pin = new OwnerPIN((byte) 3, (byte) 8);
        params = new byte[len];
        Util.arrayCopy(bArray, off, params, (short) 0, len);
        helper = new Helper();
        inner = new Inner((byte) 3);
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        short aidLen = bArray[bOffset];
        short p = (short) (bOffset + 1 + aidLen);
        short ctl = bArray[p];
        p = (short) (p + 1 + ctl);
        byte plen = bArray[p];
        new TxApplet(bArray, (short) (p + 1), plen).register(bArray, (short) (bOffset + 1), bArray[bOffset]);
    }

    boolean refuse;

    public boolean select() {
        selects++;
        if (refuse) {
            refuse = false;
            return false;
        }
        return true;
    }

    public void deselect() {
        deselects++;
    }

    public void process(APDU apdu) {
        byte[] buf = apdu.getBuffer();
        if (selectingApplet()) {
            buf[0] = (byte) 0x5E;
            apdu.setOutgoingAndSend((short) 0, (short) 1);
            return;
        }
        byte p1 = buf[ISO7816.OFFSET_P1];
        byte p2 = buf[ISO7816.OFFSET_P2];
        short n;
        switch (buf[ISO7816.OFFSET_INS]) {
            case 0x01:
                n = state(buf);
                apdu.setOutgoingAndSend((short) 0, n);
                return;
            case 0x02:
                JCSystem.beginTransaction();
                a = p2;
                b = p2;
                s = p2;
                arr[0] = p2;
                Util.arrayFillNonAtomic(buf, (short) 100, (short) 4, p2);
                Util.arrayCopy(buf, (short) 100, arr, (short) 1, (short) 4);
                sarr[0] = p2;
                ref = p2 == 0 ? null : new byte[1];
                oarr[0] = helper;
                sarr2[0] = p2;
                helper.v = p2;
                if (p1 == 0) {
                    JCSystem.commitTransaction();
                } else if (p1 == 1) {
                    JCSystem.abortTransaction();
                } else if (p1 == 2) {
                    byte[] x = null;
                    x[0] = 1;
                } else if (p1 == 4) {
                    ISOException.throwIt((short) 0x6A80);
                }
                return;
            case 0x03:
                JCSystem.beginTransaction();
                Util.arrayFillNonAtomic(buf, (short) 100, (short) 4, p2);
                Util.arrayCopyNonAtomic(buf, (short) 100, arr, (short) 8, (short) 4);
                Util.arrayFillNonAtomic(arr, (short) 12, (short) 4, p2);
                arr[7] = p2;
                JCSystem.abortTransaction();
                return;
            case 0x04:
                JCSystem.beginTransaction();
                try {
                    JCSystem.beginTransaction();
                } catch (TransactionException e) {
                    JCSystem.abortTransaction();
                    ISOException.throwIt((short) (0x6400 | e.getReason()));
                }
                return;
            case 0x05:
                try {
                    if (p1 == 0) {
                        JCSystem.commitTransaction();
                    } else {
                        JCSystem.abortTransaction();
                    }
                } catch (TransactionException e) {
                    ISOException.throwIt((short) (0x6500 | e.getReason()));
                }
                return;
            case 0x06:
                if (p1 == 0) {
                    Util.setShort(buf, (short) 0, JCSystem.getMaxCommitCapacity());
                    Util.setShort(buf, (short) 2, JCSystem.getUnusedCommitCapacity());
                    buf[4] = JCSystem.getTransactionDepth();
                    JCSystem.beginTransaction();
                    buf[5] = JCSystem.getTransactionDepth();
                    a = 7;
                    Util.setShort(buf, (short) 6, JCSystem.getUnusedCommitCapacity());
                    JCSystem.commitTransaction();
                    buf[8] = JCSystem.getTransactionDepth();
                    apdu.setOutgoingAndSend((short) 0, (short) 9);
                } else {
                    byte[] big = new byte[200];
                    JCSystem.beginTransaction();
                    try {
                        for (short i = 0; i < 100; i++) {
                            Util.arrayCopy(buf, (short) 0, big, (short) 0, (short) 200);
                            a = i;
                        }
                    } catch (TransactionException e) {
                        ISOException.throwIt((short) (0x6600 | e.getReason()));
                    }
                }
                return;
            case 0x07:
                // the tear sequence: 7 persistent writes
                arr[0] = p2;                                            // w1
                a = p2;                                                 // w2
                JCSystem.beginTransaction();
                b = p2;                                                 // w3
                s = p2;                                                 // w4
                Util.arrayFillNonAtomic(buf, (short) 100, (short) 4, p2);
                Util.arrayCopy(buf, (short) 100, arr, (short) 1, (short) 4); // w5
                JCSystem.commitTransaction();
                sarr[0] = p2;                                           // w6
                Util.arrayCopy(buf, (short) 100, arr, (short) 5, (short) 3); // w7 (atomic)
                return;
            case 0x08:
                JCSystem.beginTransaction();
                trd[0] = p2;
                trr[0] = p2;
                trb[0] = true;
                Util.arrayFillNonAtomic(buf, (short) 100, (short) 3, p2);
                Util.arrayCopy(buf, (short) 100, trd, (short) 1, (short) 3);
                JCSystem.abortTransaction();
                buf[0] = JCSystem.isTransient(trd);
                buf[1] = JCSystem.isTransient(trr);
                buf[2] = JCSystem.isTransient(arr);
                buf[3] = JCSystem.isTransient(trb);
                apdu.setOutgoingAndSend((short) 0, (short) 4);
                return;
            case 0x09:
                pinCmd(apdu, buf, p1);
                return;
            case 0x0A:
                n = apdu.setIncomingAndReceive();
                if (p1 == 1) {
                    Util.arrayCopy(buf, ISO7816.OFFSET_CDATA, arr, (short) 0, n);
                    apdu.setOutgoing();
                    apdu.setOutgoingLength(n);
                    apdu.sendBytesLong(arr, (short) 0, n);
                } else if (p1 == 2) {
                    // long answer of p2 bytes
                    short len = (short) (p2 & 0xFF);
                    if (len == 0) {
                        len = 256;
                    }
                    for (short i = 0; i < len; i++) {
                        buf[i] = (byte) i;
                    }
                    apdu.setOutgoingAndSend((short) 0, len);
                } else {
                    apdu.setOutgoingAndSend(ISO7816.OFFSET_CDATA, n);
                }
                return;
            case 0x0B:
                short[] z = new short[1];
                z[p1] = 1;
                return;
            case 0x0C:
                buf[0] = APDU.getProtocol();
                buf[1] = APDU.getCLAChannel();
                buf[2] = (byte) (apdu.isISOInterindustryCLA() ? 1 : 0);
                buf[3] = (byte) (apdu.isCommandChainingCLA() ? 1 : 0);
                buf[4] = (byte) (apdu.isSecureMessagingCLA() ? 1 : 0);
                byte st0 = apdu.getCurrentState();
                n = apdu.setIncomingAndReceive();
                buf[5] = st0;
                buf[6] = apdu.getCurrentState();
                buf[7] = (byte) apdu.getIncomingLength();
                buf[8] = (byte) apdu.getOffsetCdata();
                buf[9] = (byte) n;
                buf[10] = apdu.getNAD();
                buf[11] = (byte) (APDU.getCurrentAPDU() == apdu ? 1 : 0);
                buf[12] = (byte) (APDU.getCurrentAPDUBuffer() == buf ? 1 : 0);
                buf[13] = (byte) JCSystem.getAID().getBytes(buf, (short) 14);
                apdu.setOutgoingAndSend((short) 0, (short) (14 + buf[13]));
                return;
            case 0x0D:
                Util.arrayCopy(params, (short) 0, buf, (short) 0, (short) params.length);
                apdu.setOutgoingAndSend((short) 0, (short) params.length);
                return;
            case 0x0E:
                ISOException.throwIt(Util.makeShort(p1, p2));
                return;
            case 0x10:
                refuse = true;
                return;
            case 0x0F:
                JCSystem.beginTransaction();
                inner.x = p2;
                helper.big = p2;
                helper.dd = p2;
                inner = p1 == 2 ? new Inner(p2) : inner;
                if (p1 == 0) {
                    JCSystem.commitTransaction();
                } else {
                    JCSystem.abortTransaction();
                }
                buf[0] = inner.x;
                buf[1] = (byte) helper.big;
                buf[2] = (byte) helper.dd;
                buf[3] = inner.outerB();
                apdu.setOutgoingAndSend((short) 0, (short) 4);
                return;
            case 0x11:
                // the buffer as process() finds it (no receive): p2 bytes from offset 0, or with p1 2
                // the 256 bytes after the header (to the buffer's end); with p1 1 it fills the whole
                // buffer with 0x5A and fails, leaving them there
                if (p1 == 1) {
                    Util.arrayFillNonAtomic(buf, (short) 0, (short) buf.length, (byte) 0x5A);
                    ISOException.throwIt(ISO7816.SW_DATA_INVALID);
                }
                if (p1 == 2) {
                    apdu.setOutgoingAndSend(ISO7816.OFFSET_CDATA, (short) (buf.length - ISO7816.OFFSET_CDATA));
                    return;
                }
                apdu.setOutgoingAndSend((short) 0, (short) (p2 & 0xFF));
                return;
            default:
                ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
    }

    private void pinCmd(APDU apdu, byte[] buf, byte p1) {
        short n;
        switch (p1) {
            case 0:
                n = apdu.setIncomingAndReceive();
                pin.update(buf, ISO7816.OFFSET_CDATA, (byte) n);
                return;
            case 1:
                n = apdu.setIncomingAndReceive();
                if (!pin.check(buf, ISO7816.OFFSET_CDATA, (byte) n)) {
                    ISOException.throwIt((short) (0x63C0 | pin.getTriesRemaining()));
                }
                return;
            case 2:
                n = apdu.setIncomingAndReceive();
                JCSystem.beginTransaction();
                a = 99;
                boolean ok = pin.check(buf, ISO7816.OFFSET_CDATA, (byte) n);
                JCSystem.abortTransaction();
                buf[0] = (byte) (ok ? 1 : 0);
                apdu.setOutgoingAndSend((short) 0, (short) 1);
                return;
            case 3:
                pin.resetAndUnblock();
                return;
            case 4:
                pin.reset();
                return;
            default:
                ISOException.throwIt(ISO7816.SW_INCORRECT_P1P2);
        }
    }

    private short state(byte[] buf) {
        Util.setShort(buf, (short) 0, a);
        buf[2] = b;
        Util.setShort(buf, (short) 3, s);
        Util.arrayCopyNonAtomic(arr, (short) 0, buf, (short) 5, (short) 16);
        Util.setShort(buf, (short) 21, sarr[0]);
        buf[23] = (byte) (ref == null ? 0 : 1);
        buf[24] = trd[0];
        buf[25] = trr[0];
        buf[26] = pin.getTriesRemaining();
        buf[27] = (byte) (pin.isValidated() ? 1 : 0);
        Util.setShort(buf, (short) 28, selects);
        Util.setShort(buf, (short) 30, deselects);
        buf[32] = (byte) (oarr[0] == helper ? 1 : 0);
        buf[33] = sarr2[0];
        buf[34] = helper.v;
        buf[35] = (byte) (trb[0] ? 1 : 0);
        buf[36] = trd[1];
        return 37;
    }
}
