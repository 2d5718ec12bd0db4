/*
 * purse: packed BCD account numbers (Luhn), counters and printable names
 * (docs/protocol.md 1 and 1.1). Digit 0 is the high nibble of buf[off]. Writing account numbers
 * (the Luhn digit, the serial counters) is the issuers' part: Issuer.
 */
package org.purse.applet;

public final class Bcd {

    /** Digits of an ACCOUNT (protocol.md 1). */
    public static final short ACCOUNT_DIGITS = (short) 16;

    private Bcd() {
    }

    static short digit(byte[] buf, short off, short d) {
        byte v = buf[(short) (off + (short) (d >> 1))];
        if ((short) (d & 1) == 0) {
            return (short) ((v >> 4) & 0x0F);
        }
        return (short) (v & 0x0F);
    }

    /** Every one of the first {@code digits} nibbles is 0..9. */
    public static boolean isBcd(byte[] buf, short off, short digits) {
        for (short d = 0; d < digits; d++) {
            if (digit(buf, off, d) > (short) 9) {
                return false;
            }
        }
        return true;
    }

    /** Luhn check digit of digits 0..14 (protocol.md 1.1). */
    public static byte luhn(byte[] acc, short off) {
        short sum = (short) 0;
        boolean dbl = true; // the rightmost of the 15 digits is doubled
        for (short d = (short) 14; d >= 0; d--) {
            short v = digit(acc, off, d);
            if (dbl) {
                v = (short) (v + v);
                if (v > (short) 9) {
                    v = (short) (v - 9);
                }
            }
            sum = (short) (sum + v);
            dbl = !dbl;
        }
        return (byte) ((short) (10 - (short) (sum % 10)) % 10);
    }

    /** 16 BCD digits and the last one is the Luhn digit of the first 15. */
    public static boolean isValidAccount(byte[] acc, short off) {
        return isBcd(acc, off, ACCOUNT_DIGITS) && digit(acc, off, (short) 15) == luhn(acc, off);
    }

    /** Every byte in 0x20..0x7E. */
    public static boolean isPrintable(byte[] name, short off, short len) {
        for (short i = 0; i < len; i++) {
            byte c = name[(short) (off + i)];
            if (c < Constants.NAME_MIN_CHAR || c > Constants.NAME_MAX_CHAR) {
                return false;
            }
        }
        return true;
    }
}
