package org.purse.applet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

/** The work buffer map (WorkMap): per flow no undeclared overlap, all in WORK_LEN, old values kept. */
class WorkMapTest {
    /** Each flow and the WorkMap groups (name prefixes) live in it. */
    static final String[][] FLOWS = {
        {"transfer", "HS_", "TR_"},
        {"sync", "HS_", "SY_"},
        {"admin card", "HS_", "AD_", "ADM_"},
        {"bank", "HS_", "AD_", "BNK_"},
        {"center advance", "EP_"},
        {"personalisation", "PE_"},
    };

    static final class F {
        final String name;
        final int off;
        final int len;

        F(String name, int off, int len) {
            this.name = name;
            this.off = off;
            this.len = len;
        }
    }

    static Map<String, Short> shorts() throws IllegalAccessException {
        Map<String, Short> m = new TreeMap<>();
        for (Field f : WorkMap.class.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (!Modifier.isStatic(mod)) {
                continue;
            }
            assertTrue(Modifier.isFinal(mod) && f.getType() == short.class, f.getName() + ": only static final short");
            f.setAccessible(true);
            m.put(f.getName(), f.getShort(null));
        }
        return m;
    }

    /** Every field is an offset with its _LEN, a _LEN, a REUSES__ entry or WORK_LEN, in a known group. */
    static List<F> fields(Map<String, Short> m) {
        List<F> out = new ArrayList<>();
        Set<String> groups = new HashSet<>();
        for (String[] fl : FLOWS) {
            for (int i = 1; i < fl.length; i++) {
                groups.add(fl[i]);
            }
        }
        for (Map.Entry<String, Short> e : m.entrySet()) {
            String n = e.getKey();
            if (n.equals("WORK_LEN") || n.startsWith("REUSES__")) {
                continue;
            }
            if (n.endsWith("_LEN")) {
                assertTrue(m.containsKey(n.substring(0, n.length() - 4)), n + " has no offset");
                continue;
            }
            String g = n.substring(0, n.indexOf('_') + 1);
            assertTrue(groups.contains(g), n + ": group " + g + " is in no flow (WorkMapTest.FLOWS)");
            Short len = m.get(n + "_LEN");
            if (len == null) {
                fail(n + " has no " + n + "_LEN");
            }
            assertTrue(len > 0, n + "_LEN");
            out.add(new F(n, e.getValue(), len));
        }
        return out;
    }

    static Set<String> reuses(Map<String, Short> m) {
        Set<String> r = new HashSet<>();
        for (String n : m.keySet()) {
            if (n.startsWith("REUSES__")) {
                String[] ab = n.substring(8).split("__");
                assertEquals(2, ab.length, n);
                assertTrue(m.containsKey(ab[0]) && m.containsKey(ab[1]), n + " names an unknown field");
                r.add(ab[0] + "|" + ab[1]);
            }
        }
        return r;
    }

    @Test
    void perFlowNoUndeclaredOverlapAndFits() throws Exception {
        Map<String, Short> m = shorts();
        List<F> all = new ArrayList<>();
        List<F> subs = new ArrayList<>();
        for (F f : fields(m)) {
            F parent = null;
            for (F p : fields(m)) {
                if (f.name.startsWith(p.name + "_")) {
                    parent = p;
                }
            }
            if (parent == null) {
                all.add(f);
                continue;
            }
            assertTrue(f.off >= parent.off && f.off + f.len <= parent.off + parent.len,
                    f.name + " lies outside its record " + parent.name);
            for (F o : subs) {
                assertTrue(!o.name.startsWith(parent.name + "_") || o.off >= f.off + f.len || f.off >= o.off + o.len,
                        f.name + " overlaps " + o.name);
            }
            subs.add(f);
        }
        assertTrue(!subs.isEmpty());
        Set<String> reuse = reuses(m);
        Set<String> used = new HashSet<>();
        int work = m.get("WORK_LEN");
        assertEquals(Session.WORK_LEN, work);
        for (String[] fl : FLOWS) {
            List<F> in = new ArrayList<>();
            for (F f : all) {
                for (int i = 1; i < fl.length; i++) {
                    if (f.name.startsWith(fl[i])) {
                        in.add(f);
                    }
                }
            }
            for (F a : in) {
                assertTrue(a.off >= 0 && a.off + a.len <= work, fl[0] + ": " + a.name + " outside work[0.." + work + ")");
                for (F b : in) {
                    if (a == b || a.off >= b.off + b.len || b.off >= a.off + a.len) {
                        continue;
                    }
                    if (reuse.contains(a.name + "|" + b.name)) {
                        used.add(a.name + "|" + b.name);
                    } else if (!reuse.contains(b.name + "|" + a.name)) {
                        fail(fl[0] + ": " + a.name + " [" + a.off + ".." + (a.off + a.len) + ") overlaps " + b.name
                                + " [" + b.off + ".." + (b.off + b.len) + ") with no REUSES__ entry");
                    }
                }
            }
        }
        for (String r : reuse) {
            assertTrue(used.contains(r), "REUSES__ entry " + r + " declares an overlap that no flow has");
        }
    }

    /** The offsets the code used before the map (literals), so the map moved no byte. */
    @Test
    void valuesUnchanged() throws Exception {
        Map<String, Integer> want = new LinkedHashMap<>();
        Object[] w = {
            "HS_B1", 0, "HS_CTX", 196, "TR_B2", 48, "TR_ENTRY", 104,
            "SY_B1", 0, "SY_C", 196, "SY_I", 196, "SY_I_DATE", 200, "SY_I_RATE", 202, "SY_I_FLAGS", 206,
            "SY_I_NK", 207, "SY_I_KDATE", 208, "SY_SHORT", 212, "SY_TMP", 252,
            "AD_A2", 0, "ADM_A5", 48, "BNK_A5", 0, "BNK_ACC", 208, "BNK_A6", 216, "EP_KEY", 0, "EP_DATE", 24,
            "PE_BODY", 0, "PE_IMG", 180, "PE_CTX", 236, "WORK_LEN", 256,
        };
        for (int i = 0; i < w.length; i += 2) {
            want.put((String) w[i], (Integer) w[i + 1]);
        }
        Map<String, Short> m = shorts();
        for (Map.Entry<String, Integer> e : want.entrySet()) {
            assertEquals((int) e.getValue(), (int) m.get(e.getKey()), e.getKey());
        }
    }
}
