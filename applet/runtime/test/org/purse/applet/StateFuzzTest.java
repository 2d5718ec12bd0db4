package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.purse.applet.PurseCardTestSupport.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.purse.jc.Card;

/**
 * Fuzz of every INS in each state where a card is most exposed (issue 7, section 5): a payee
 * after 44, a payer between 46 and 4A, a pending OUT slot, IN = EXPECTING, mid-sync after P5 (and
 * the bank between P5 and 76), a bank card mid-admin, a blank card mid-genesis, and a card one
 * BAD_KEY below its limit. Each fuzzed APDU runs on a freshly rebuilt state (card images copied
 * from a pristine world, then the transient steps replayed), so a fuzzer that locks the card or
 * ends the session does not end the coverage. Asserts: never 6F00; an error leaves the card's
 * persistent state (GET_STATUS, GET_PENDING, READ_EXCEPTIONS, bank files) unchanged except
 * BAD_KEY and the PIN / transaction-key / transport-key try counters (protocol.md 4). Figures:
 * APDUs per INS per state, status-word histogram, 6F00 count, printed at the end. APDUs per INS
 * per state: 2 by default, PURSE_FUZZ_PER_INS for a longer run.
 */
class StateFuzzTest {
    @TempDir
    static Path dir;

    static final int PER_INS = Integer.parseInt(System.getenv().getOrDefault("PURSE_FUZZ_PER_INS", "2"));
    static final int[] INS = {
        0x10, 0x12, 0x14, 0x16, 0x18, 0x1A, 0x20, 0x24, 0x30, 0x32, 0x34, 0x36, 0x40, 0x42, 0x44, 0x46, 0x48,
        0x4A, 0x4C, 0x50, 0x52, 0x54, 0x70, 0x72, 0x74, 0x76, 0x78, 0x7A, 0x7C, 0x7E, 0x80, 0x82, 0x84, 0x86,
        0x88, 0x8A, 0x8C, 0x00, 0x02, 0x56, 0x8E, 0xA0, 0xFE
    };
    /** Lc the applet expects per INS (AES suite), so random data passes the length check. */
    static final Map<Integer, Integer> NOMINAL_LC = new HashMap<>();

    static {
        int[][] t = {
            {0x10, 8}, {0x14, 70}, {0x16, 16}, {0x18, 48}, {0x1A, 6}, {0x20, 4}, {0x24, 10}, {0x42, 16},
            {0x44, 70}, {0x46, 80}, {0x48, 48}, {0x4A, 48}, {0x4C, 6}, {0x50, 6}, {0x52, 6}, {0x54, 6}, {0x70, 2},
            {0x72, 12}, {0x74, 64}, {0x76, 104}, {0x78, 80}, {0x7A, 48}, {0x7E, 17}, {0x80, 7},
            {0x82, 19}, {0x84, 64}, {0x86, 96}, {0x88, 64}
        };
        for (int[] e : t) {
            NOMINAL_LC.put(e[0], e[1]);
        }
    }

    /** Pristine images of the world, by card name. */
    static final Map<String, Path> PRISTINE = new HashMap<>();
    static final Map<String, byte[]> ACCOUNTS = new HashMap<>();
    static int copies;

    @BeforeAll
    static void world() throws Exception {
        PCard center = center(dir, "center", 1, 0, 1_000_000, 0);
        PCard region = issueNew(center, dir, "region", Constants.ROLE_REGION, 0, 1_000_000);
        PCard branch = issueNew(center, dir, "branch", Constants.ROLE_BRANCH, 0, 1_000_000);
        PCard alice = issueNew(center, dir, "alice", Constants.ROLE_USER, 100, 10_000);
        PCard bob = issueNew(center, dir, "bob", Constants.ROLE_USER, 100, 10_000);
        PCard carol = issueNew(center, dir, "carol", Constants.ROLE_USER, 100, 10_000);
        PCard admin = issueNew(center, dir, "admin", Constants.ROLE_ADMIN, 0, 1_000_000);
        mint(center, 1_000_000);
        transfer(center, region, 200_000);
        transfer(region, branch, 100_000);
        transfer(branch, alice, 20_000);
        transfer(alice, bob, 50);
        // carol: BAD_KEY one below its limit (10), by nine forged P1s
        for (int i = 0; i < 9; i++) {
            byte[] hello = carol.hello(10);
            byte[] p1 = alice.ok(0x42, 0, 0, cat(u32(10), u16(DATE), hello));
            p1[p1.length - 1] ^= 1;
            assertEquals(0x9D03, carol.swOf(0x44, 0, 0, carol.ad(p1)));
            alice.ok(0x4C, 0, 0, null);
        }
        byte[] st = carol.status();
        assertEquals(st[Constants.ST_BAD_KEY_LIMIT] - 1, st[Constants.ST_BAD_KEY]);
        Path base = Files.createDirectories(dir.resolve("pristine"));
        for (PCard c : new PCard[] {center, region, branch, alice, bob, carol, admin}) {
            c.card.save();
            Path p = base.resolve(c.path.getFileName());
            Files.copy(c.path, p, StandardCopyOption.REPLACE_EXISTING);
            PRISTINE.put(c.path.getFileName().toString().replace(".img", ""), p);
            ACCOUNTS.put(c.path.getFileName().toString().replace(".img", ""), c.account);
        }
    }

    /** A fresh copy of a pristine card, loaded and selected. */
    static PCard fresh(String name) throws Exception {
        Path p = dir.resolve("work-" + (copies++) + "-" + name + ".img");
        Files.copy(PRISTINE.get(name), p, StandardCopyOption.REPLACE_EXISTING);
        PCard c = new PCard(p, Card.load(p), name);
        c.account = ACCOUNTS.get(name);
        c.select();
        return c;
    }

    /** One exposed state: the card under test and the genuine next packets (to mutate), by INS. */
    static final class State {
        PCard target;
        /**
         * No transient session on the target: an error leaves the state exactly as it was (which
         * the test asserts), so the same built state serves the next APDU unless a try counter
         * moved or a command succeeded.
         */
        boolean persistentOnly;
        Map<Integer, byte[]> valid = new HashMap<>();
        Map<Integer, int[]> p1p2 = new HashMap<>();
    }

    interface Builder {
        State build() throws Exception;
    }

    static final Map<String, Builder> STATES = new TreeMap<>();

    static {
        STATES.put("1 payee after 44", () -> {
            PCard a = fresh("alice");
            PCard b = fresh("bob");
            byte[] hello = b.hello(300);
            a.verify(1, PIN);
            byte[] p1 = a.ok(0x42, 0, 0, cat(u32(300), u16(DATE), hello));
            byte[] p2p3 = b.ok(0x44, 0, 0, b.ad(p1));
            byte[] p4 = a.ok(0x46, 0, 0, p2p3);
            State s = new State();
            s.target = b;
            s.valid.put(0x48, p4);
            s.valid.put(0x4C, Arrays.copyOfRange(p1, 2, 8));
            s.valid.put(0x44, b.ad(p1));
            s.p1p2.put(0x4C, new int[] {1, 0});
            s.persistentOnly = true;
            return s;
        });
        STATES.put("2 payer between 46 and 4A", () -> {
            PCard a = fresh("alice");
            PCard b = fresh("bob");
            byte[] hello = b.hello(300);
            a.verify(1, PIN);
            byte[] p1 = a.ok(0x42, 0, 0, cat(u32(300), u16(DATE), hello));
            byte[] p2p3 = b.ok(0x44, 0, 0, b.ad(p1));
            byte[] p4 = a.ok(0x46, 0, 0, p2p3);
            byte[] ack = b.ok(0x48, 0, 0, p4);
            State s = new State();
            s.target = a;
            s.valid.put(0x4A, ack);
            s.valid.put(0x46, p2p3);
            s.valid.put(0x50, Arrays.copyOfRange(p1, 2, 8));
            s.valid.put(0x54, Arrays.copyOfRange(p1, 2, 8));
            s.persistentOnly = true;
            return s;
        });
        STATES.put("3 pending OUT slot (after a power cycle)", () -> {
            State s = STATES.get("2 payer between 46 and 4A").build();
            s.target.reinsert();
            s.target.verify(1, PIN); // so 54 and the PIN-gated commands reach their later checks
            return s;
        });
        STATES.put("4 IN = EXPECTING (after a power cycle)", () -> {
            State s = STATES.get("1 payee after 44").build();
            s.target.reinsert();
            return s;
        });
        STATES.put("5 sync bank between P5 and 76", () -> syncState(0));
        STATES.put("6 sync card after P5 (IN = SYNC)", () -> syncState(1));
        STATES.put("7 sync bank after P5 (OUT = SYNC)", () -> syncState(2));
        STATES.put("8 bank card mid-admin (W_A2)", () -> {
            PCard adm = fresh("admin");
            PCard bank = fresh("region");
            adm.verify(1, PIN);
            byte[] h = adm.ok(0x82, 0, 0, cat(new byte[] {3}, u32(7), new byte[12], u16(DATE)));
            byte[] a1 = bank.ok(0x82, 1, 0, h);
            byte[] a2 = adm.ok(0x84, 0, 0, a1);
            State s = new State();
            s.target = bank;
            s.valid.put(0x86, a2);
            s.valid.put(0x82, h);
            s.p1p2.put(0x82, new int[] {1, 0});
            return s;
        });
        STATES.put("9 blank card mid-genesis", () -> {
            Path p = dir.resolve("work-" + (copies++) + "-blank.img");
            PCard blank = new PCard(p, Card.create(p, APPLET, AID, new byte[0]), "blank");
            blank.select();
            byte[][] a = hostAuth(blank, DEV_TK_AES);
            byte[] pkt = seal(0x11, 0, Arrays.copyOf(a[2], 6), a[0],
                    g1(1, "100000", "NEWBANK", 0, 1_000_000, 10, 0));
            State s = new State();
            s.target = blank;
            s.valid.put(0x12, cat(a[1], pkt));
            return s;
        });
        STATES.put("A one BAD_KEY below the limit (payee session)", () -> {
            PCard a = fresh("alice");
            PCard c = fresh("carol");
            byte[] hello = c.hello(10);
            byte[] p1 = a.ok(0x42, 0, 0, cat(u32(10), u16(DATE), hello));
            State s = new State();
            s.target = c;
            s.valid.put(0x44, c.ad(p1));
            return s;
        });
    }

    /** stage 0: bank after 74 (waiting for P5 | D'); 1: card after 76; 2: bank after 76 with the SACK known. */
    static State syncState(int stage) throws Exception {
        PCard bank = fresh("branch");
        PCard card = fresh("alice");
        bank.verify(1, PIN); // FIG. 5: the operator's PIN, then the holder's
        card.verify(1, PIN);
        byte[] h = card.ok(0x70, 0, 0, u16(DATE));
        byte[] s1 = bank.ok(0x72, 0, 0, cat(h, u16(DATE)));
        byte[] p5 = cat(card.ok(0x74, 0, 0, s1), new byte[Constants.MAC_LEN]); // P5 | D' (nothing collected)
        State s = new State();
        if (stage == 0) {
            s.target = bank;
            s.valid.put(0x76, p5);
            return s;
        }
        byte[] p6 = bank.ok(0x76, 0, 0, p5);
        s.persistentOnly = true;
        if (stage == 1) {
            s.target = card;
            s.valid.put(0x78, p6);
            s.valid.put(0x4C, Arrays.copyOfRange(s1, 2, 8));
            s.p1p2.put(0x4C, new int[] {1, 0});
            return s;
        }
        byte[] sack = Arrays.copyOf(card.ok(0x78, 0, 0, p6), Constants.PKT_SHORT); // SACK | STATUS
        s.target = bank;
        s.valid.put(0x7A, sack);
        s.valid.put(0x50, Arrays.copyOfRange(s1, 2, 8));
        return s;
    }

    /** Persistent state the host can see, try counters masked (the documented exceptions). */
    static String snapshot(PCard c) {
        byte[] st = c.status();
        boolean blank = st[Constants.ST_LIFE] == Constants.LIFE_BLANK;
        byte[] m = st.clone();
        m[Constants.ST_BAD_KEY] = 0;
        m[Constants.ST_PIN_TRIES] = 0;
        m[Constants.ST_TXKEY_TRIES] = 0;
        m[Constants.ST_TK_TRIES] = 0;
        if (blank) {
            return hex(m);
        }
        String s = hex(m) + "/" + hex(c.pending()) + "/" + hex(c.ok(0x36, 0, 0, null));
        byte role = st[Constants.ST_ROLE];
        if (role == Constants.ROLE_CENTER || role == Constants.ROLE_REGION || role == Constants.ROLE_BRANCH) {
            s += "/" + hex(c.ok(0x8A, 0, 0, null));
        }
        return s;
    }

    /** BAD_KEY and the try counters (GET_STATUS 40, 44, 45, 67). */
    static byte[] tries(PCard c) {
        byte[] st = c.status();
        return new byte[] {st[Constants.ST_BAD_KEY], st[Constants.ST_PIN_TRIES], st[Constants.ST_TXKEY_TRIES],
            st[Constants.ST_TK_TRIES]};
    }

    static byte[] mutate(Random r, byte[] v) {
        byte[] d = v.clone();
        switch (r.nextInt(4)) {
            case 0: // flip 1-3 bytes
                for (int i = 1 + r.nextInt(3); i > 0 && d.length > 0; i--) {
                    d[r.nextInt(d.length)] ^= (byte) (1 + r.nextInt(255));
                }
                return d;
            case 1: // one byte shorter or longer
                return r.nextBoolean() && d.length > 0 ? Arrays.copyOf(d, d.length - 1) : cat(d, new byte[] {(byte) r.nextInt()});
            case 2: // the header kept, the rest random
                for (int i = Math.min(8, d.length); i < d.length; i++) {
                    d[i] = (byte) r.nextInt();
                }
                return d;
            default: // unchanged: a replay of the genuine packet in this state
                return d;
        }
    }

    static byte[] fuzzApdu(Random r, State s, int ins) {
        byte[] valid = s.valid.get(ins);
        int[] pp = s.p1p2.getOrDefault(ins, new int[] {0, 0});
        int p1 = pp[0];
        int p2 = pp[1];
        if (ins == 0x20 || ins == 0x24) {
            p2 = 1 + r.nextInt(4);
        }
        if (r.nextInt(5) == 0) {
            p1 = r.nextInt(256);
            p2 = r.nextInt(256);
        }
        byte[] data;
        int k = r.nextInt(10);
        int nominal = valid != null ? valid.length : NOMINAL_LC.getOrDefault(ins, 0);
        if (valid != null && k < 6) {
            data = mutate(r, valid);
        } else if (k == 6) {
            data = new byte[0];
        } else if (k == 7) {
            data = rnd(r.nextInt(256));
        } else {
            data = rnd(Math.max(0, nominal + (k == 8 ? r.nextInt(3) - 1 : 0)));
        }
        int cla = r.nextInt(20) == 0 ? new int[] {0x00, 0x84, 0xFF, 0x90}[r.nextInt(4)] : 0x80;
        byte[] c = apdu(ins, p1, p2, data);
        c[0] = (byte) cla;
        return c;
    }

    @Test
    void everyInsInEveryExposedState() throws Exception {
        Random r = new Random(Long.getLong("purse.fuzz.seed", 7L));
        Map<String, Map<Integer, Integer>> perState = new TreeMap<>();
        Map<Integer, Integer> swHist = new TreeMap<>();
        Map<String, Map<Integer, Integer>> swPerState = new TreeMap<>();
        int total = 0;
        int sixF = 0;
        int changed = 0;
        int builds = 0;
        StringBuilder problems = new StringBuilder();
        for (Map.Entry<String, Builder> e : STATES.entrySet()) {
            Map<Integer, Integer> counts = new TreeMap<>();
            Map<Integer, Integer> sws = new TreeMap<>();
            swPerState.put(e.getKey(), sws);
            State s = null;
            String before = null;
            byte[] counters = null;
            for (int ins : INS) {
                for (int i = 0; i < PER_INS; i++) {
                    if (s == null) {
                        s = e.getValue().build();
                        builds++;
                        before = snapshot(s.target);
                        counters = tries(s.target);
                    }
                    byte[] cmd = fuzzApdu(r, s, ins);
                    byte[] resp = s.target.raw(cmd);
                    int w = sw(resp);
                    total++;
                    counts.merge(ins, 1, Integer::sum);
                    swHist.merge(w, 1, Integer::sum);
                    sws.merge(w, 1, Integer::sum);
                    if (w == 0x6F00) {
                        sixF++;
                        problems.append(String.format("%s: 6F00 on %s%n", e.getKey(), hex(cmd)));
                    }
                    boolean ok = w == 0x9000 || (w & 0xFF00) == 0x6100;
                    boolean again = false;
                    if (!ok) {
                        String after = snapshot(s.target);
                        if (!after.equals(before)) {
                            changed++;
                            problems.append(String.format("%s: %04X changed state on %s%n  before %s%n  after  %s%n",
                                    e.getKey(), w, hex(cmd), before, after));
                        } else {
                            again = s.persistentOnly && Arrays.equals(counters, tries(s.target));
                        }
                    }
                    if (!again) {
                        s = null;
                    }
                }
            }
            perState.put(e.getKey(), counts);
        }
        System.out.println("StateFuzzTest: " + total + " APDUs, " + PER_INS + " per INS per state, " + builds
                + " states built, 6F00: " + sixF + ", state changed on error: " + changed);
        for (Map.Entry<String, Map<Integer, Integer>> e : perState.entrySet()) {
            int n = e.getValue().values().stream().mapToInt(Integer::intValue).sum();
            StringBuilder l = new StringBuilder("  state " + e.getKey() + ": " + n + " APDUs over "
                    + e.getValue().size() + " INS;");
            for (Map.Entry<Integer, Integer> w : swPerState.get(e.getKey()).entrySet()) {
                l.append(String.format(" %04X×%d", w.getKey(), w.getValue()));
            }
            System.out.println(l);
        }
        StringBuilder h = new StringBuilder("  SW histogram:");
        for (Map.Entry<Integer, Integer> e : swHist.entrySet()) {
            h.append(String.format(" %04X×%d", e.getKey(), e.getValue()));
        }
        System.out.println(h);
        if (problems.length() > 0) {
            fail(problems.toString());
        }
        assertTrue(total >= STATES.size() * INS.length * PER_INS);
    }
}
