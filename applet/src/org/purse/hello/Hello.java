/*
 * purse: hello applet, the runtime's test subject (desk only, AID F07075727365FF).
 *
 * A small but real JavaCard 3.0.4 classic applet: no int/long/char/String, every
 * short arithmetic result cast back to short. It compiles unchanged against
 * Oracle's api_classic.jar.
 *
 * Commands (CLA 0x80):
 *   SELECT (by AID)  -> VERSION_MAJOR VERSION_MINOR CAPABILITIES, 9000
 *   INS 0x10 COUNT   -> increments a persistent 32-bit counter inside one
 *                       JCSystem transaction (4 persistent byte writes) and
 *                       returns the new value (4 bytes, big endian)
 *   INS 0x12 READ    -> returns the counter without changing it
 *   INS 0x20 ECHO    -> returns the command data unchanged (short APDUs)
 *   INS 0x30 TRANSIENT -> increments a CLEAR_ON_RESET transient counter and
 *                       returns it (1 byte); shows transient memory at work
 */
package org.purse.hello;

import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISO7816;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;
import javacard.framework.Util;

public class Hello extends Applet {

    public static final byte VERSION_MAJOR = (byte) 0x01;
    public static final byte VERSION_MINOR = (byte) 0x00;
    /** bit 0: counter, bit 1: echo, bit 2: transient counter */
    public static final byte CAPABILITIES = (byte) 0x07;

    public static final byte CLA_PROPRIETARY = (byte) 0x80;
    public static final byte INS_COUNT = (byte) 0x10;
    public static final byte INS_READ = (byte) 0x12;
    public static final byte INS_ECHO = (byte) 0x20;
    public static final byte INS_TRANSIENT = (byte) 0x30;

    private static final short COUNTER_LEN = (short) 4;

    /** persistent 32-bit counter, big endian */
    private final byte[] counter;
    /** transient counter, cleared on card reset */
    private final byte[] scratch;

    private Hello() {
        counter = new byte[COUNTER_LEN];
        scratch = JCSystem.makeTransientByteArray((short) 1, JCSystem.CLEAR_ON_RESET);
    }

    public static void install(byte[] bArray, short bOffset, byte bLength) {
        Hello applet = new Hello();
        // standard install data: Li AID, Lc control info, La parameters
        byte aidLen = bArray[bOffset];
        if (aidLen == (byte) 0) {
            applet.register();
        } else {
            applet.register(bArray, (short) (bOffset + 1), aidLen);
        }
    }

    public void process(APDU apdu) {
        byte[] buf = apdu.getBuffer();
        if (selectingApplet()) {
            buf[0] = VERSION_MAJOR;
            buf[1] = VERSION_MINOR;
            buf[2] = CAPABILITIES;
            apdu.setOutgoingAndSend((short) 0, (short) 3);
            return;
        }
        if (buf[ISO7816.OFFSET_CLA] != CLA_PROPRIETARY) {
            ISOException.throwIt(ISO7816.SW_CLA_NOT_SUPPORTED);
        }
        switch (buf[ISO7816.OFFSET_INS]) {
            case INS_COUNT:
                count(apdu, buf);
                return;
            case INS_READ:
                Util.arrayCopyNonAtomic(counter, (short) 0, buf, (short) 0, COUNTER_LEN);
                apdu.setOutgoingAndSend((short) 0, COUNTER_LEN);
                return;
            case INS_ECHO:
                echo(apdu, buf);
                return;
            case INS_TRANSIENT:
                scratch[0] = (byte) (scratch[0] + 1);
                buf[0] = scratch[0];
                apdu.setOutgoingAndSend((short) 0, (short) 1);
                return;
            default:
                ISOException.throwIt(ISO7816.SW_INS_NOT_SUPPORTED);
        }
    }

    private void count(APDU apdu, byte[] buf) {
        JCSystem.beginTransaction();
        // add one with carry, least significant byte first
        short i = (short) (COUNTER_LEN - 1);
        boolean carry = true;
        while (carry && i >= (short) 0) {
            byte b = (byte) (counter[i] + 1);
            counter[i] = b;
            carry = (b == (byte) 0);
            i = (short) (i - 1);
        }
        JCSystem.commitTransaction();
        Util.arrayCopyNonAtomic(counter, (short) 0, buf, (short) 0, COUNTER_LEN);
        apdu.setOutgoingAndSend((short) 0, COUNTER_LEN);
    }

    private void echo(APDU apdu, byte[] buf) {
        // short APDUs only: all data (at most 255 bytes) fits in the APDU buffer
        short len = apdu.setIncomingAndReceive();
        Util.arrayCopyNonAtomic(buf, ISO7816.OFFSET_CDATA, buf, (short) 0, len);
        apdu.setOutgoingAndSend((short) 0, len);
    }
}
