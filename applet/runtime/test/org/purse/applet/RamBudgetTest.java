package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.purse.jc.Card;

/**
 * Transient RAM of one purse card (docs/real-cards.md section 4) as the desk counts it at install:
 * the applet's CLEAR_ON_DESELECT arrays, the data of the transient work keys and the PINs'
 * validated flags. It must stay under 1 KB; the exact figure keeps the table in the docs true.
 */
class RamBudgetTest {
    /** Arrays 651 (Session 223 + 256, CryptoSuite 108, shared scratch 64). */
    static final int ARRAYS = 651;
    /** 4 AES (16 B) + 4 TDES (24 B) work keys, one initialised-flag byte each on the desk. */
    static final int WORK_KEYS = 4 * 17 + 4 * 25;
    /** One validated flag (CLEAR_ON_RESET) per OwnerPIN: PIN, TXKEY, CREATION, APPROVAL. */
    static final int PIN_FLAGS = 4;

    @Test
    void transientRamAsAccountedAndUnderOneKilobyte() throws Exception {
        Path dir = Files.createTempDirectory("ram");
        Card c = Card.create(dir.resolve("c.img"), PurseCardTestSupport.APPLET, PurseCardTestSupport.AID, new byte[0]);
        assertEquals(ARRAYS + WORK_KEYS + PIN_FLAGS, c.transientBytes(),
                "transient RAM changed: update docs/real-cards.md section 4");
        assertTrue(c.transientBytes() <= 1024, "transient RAM over 1 KB: " + c.transientBytes());
    }
}
