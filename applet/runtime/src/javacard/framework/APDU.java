package javacard.framework;

import org.purse.jc.JCRE;

/**
 * Short APDUs only. At process() entry the buffer holds the 5 header bytes (CLA INS P1 P2 P3);
 * command data is copied in by setIncomingAndReceive() (all of it at once).
 */
public final class APDU {
    public static final byte STATE_INITIAL = 0;
    public static final byte STATE_PARTIAL_INCOMING = 1;
    public static final byte STATE_FULL_INCOMING = 2;
    public static final byte STATE_OUTGOING = 3;
    public static final byte STATE_OUTGOING_LENGTH_KNOWN = 4;
    public static final byte STATE_PARTIAL_OUTGOING = 5;
    public static final byte STATE_FULL_OUTGOING = 6;
    public static final byte STATE_ERROR_NO_T0_GETRESPONSE = -1;
    public static final byte STATE_ERROR_T1_IFD_ABORT = -2;
    public static final byte STATE_ERROR_IO = -3;
    public static final byte STATE_ERROR_NO_T0_REISSUE = -4;

    public static final byte PROTOCOL_MEDIA_MASK = (byte) 0xF0;
    public static final byte PROTOCOL_TYPE_MASK = 0x0F;
    public static final byte PROTOCOL_T0 = 0;
    public static final byte PROTOCOL_T1 = 1;
    public static final byte PROTOCOL_MEDIA_DEFAULT = 0;
    public static final byte PROTOCOL_MEDIA_CONTACTLESS_TYPE_A = (byte) 0x80;
    public static final byte PROTOCOL_MEDIA_CONTACTLESS_TYPE_B = (byte) 0x90;
    public static final byte PROTOCOL_MEDIA_USB = (byte) 0xA0;

    static {
        JCRE.installApduAccess(new ApduBridge());
    }

    static APDU current;

    final byte[] buffer;
    final byte[] command;
    final short lc;
    final short ne;
    final boolean t0;
    byte state = STATE_INITIAL;
    short outLen;
    short sent;
    final byte[] out = new byte[256];

    APDU(byte[] buffer, byte[] command, int lc, int ne, boolean t0) {
        this.buffer = buffer;
        this.command = command;
        this.lc = (short) lc;
        this.ne = (short) ne;
        this.t0 = t0;
    }

    public byte[] getBuffer() {
        return buffer;
    }

    public static short getInBlockSize() {
        return JCRE.isT0() ? (short) 1 : (short) 254;
    }

    public static short getOutBlockSize() {
        return JCRE.isT0() ? (short) 258 : (short) 254;
    }

    public static byte getProtocol() {
        return JCRE.isT0() ? PROTOCOL_T0 : PROTOCOL_T1;
    }

    public byte getNAD() {
        return 0;
    }

    public short setOutgoing() throws APDUException {
        if (state < 0 || state >= STATE_OUTGOING) {
            APDUException.throwIt(APDUException.ILLEGAL_USE);
        }
        state = STATE_OUTGOING;
        if (ne >= 0) {
            return ne;
        }
        return t0 ? (short) 256 : (short) 0;
    }

    public short setOutgoingNoChaining() throws APDUException {
        return setOutgoing();
    }

    public void setOutgoingLength(short len) throws APDUException {
        if (state != STATE_OUTGOING) {
            APDUException.throwIt(APDUException.ILLEGAL_USE);
        }
        if (len < 0 || len > 256) {
            APDUException.throwIt(APDUException.BAD_LENGTH);
        }
        outLen = len;
        state = STATE_OUTGOING_LENGTH_KNOWN;
    }

    public short receiveBytes(short bOff) throws APDUException {
        if (state != STATE_PARTIAL_INCOMING && state != STATE_FULL_INCOMING) {
            APDUException.throwIt(APDUException.ILLEGAL_USE);
        }
        if (bOff < 0 || bOff > buffer.length) {
            APDUException.throwIt(APDUException.BUFFER_BOUNDS);
        }
        return 0;
    }

    public short setIncomingAndReceive() throws APDUException {
        if (state != STATE_INITIAL) {
            APDUException.throwIt(APDUException.ILLEGAL_USE);
        }
        System.arraycopy(command, 5, buffer, 5, lc);
        state = STATE_FULL_INCOMING;
        return lc;
    }

    private void send(byte[] src, short bOff, short len) {
        if (state != STATE_OUTGOING_LENGTH_KNOWN && state != STATE_PARTIAL_OUTGOING) {
            APDUException.throwIt(APDUException.ILLEGAL_USE);
        }
        if (len < 0 || sent + len > outLen) {
            APDUException.throwIt(APDUException.ILLEGAL_USE);
        }
        System.arraycopy(src, bOff, out, sent, len);
        sent += len;
        state = sent == outLen ? STATE_FULL_OUTGOING : STATE_PARTIAL_OUTGOING;
    }

    public void sendBytes(short bOff, short len) throws APDUException {
        if (bOff < 0 || len < 0 || bOff + len > buffer.length) {
            APDUException.throwIt(APDUException.BUFFER_BOUNDS);
        }
        send(buffer, bOff, len);
    }

    public void sendBytesLong(byte[] outData, short bOff, short len) throws APDUException, SecurityException {
        if (outData == null) {
            throw new NullPointerException();
        }
        if (bOff < 0 || len < 0 || bOff + len > outData.length) {
            throw new ArrayIndexOutOfBoundsException();
        }
        send(outData, bOff, len);
    }

    public void setOutgoingAndSend(short bOff, short len) throws APDUException {
        setOutgoing();
        setOutgoingLength(len);
        sendBytes(bOff, len);
    }

    public byte getCurrentState() {
        return state;
    }

    public static APDU getCurrentAPDU() throws SecurityException {
        if (current == null) {
            throw new SecurityException("no APDU is being processed");
        }
        return current;
    }

    public static byte[] getCurrentAPDUBuffer() throws SecurityException {
        return getCurrentAPDU().buffer;
    }

    public static byte getCLAChannel() {
        APDU a = current;
        if (a == null) {
            return 0;
        }
        byte cla = a.command[0];
        if ((cla & 0x40) == 0) {
            return (byte) (cla & 0x03);
        }
        return (byte) ((cla & 0x0F) + 4);
    }

    public static void waitExtension() throws APDUException {
    }

    private boolean rfuCLA() {
        byte cla = command[0];
        return (cla & 0xE0) == 0x20 || cla == (byte) 0xFF;
    }

    public boolean isCommandChainingCLA() {
        return !rfuCLA() && (command[0] & 0x10) != 0;
    }

    public boolean isSecureMessagingCLA() {
        byte cla = command[0];
        if (rfuCLA()) {
            return false;
        }
        if ((cla & 0x40) == 0) {
            return (cla & 0x0C) != 0;
        }
        return (cla & 0x20) != 0;
    }

    public boolean isISOInterindustryCLA() {
        return (command[0] & 0x80) == 0;
    }

    public short getIncomingLength() {
        return lc;
    }

    public short getOffsetCdata() {
        return ISO7816.OFFSET_CDATA;
    }
}
