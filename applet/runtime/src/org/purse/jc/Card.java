package org.purse.jc;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import javacard.framework.APDU;
import javacard.framework.Applet;
import javacard.framework.ISOException;
import javacard.framework.JCSystem;

/** One virtual card: its applets and its persistent image. See docs/runtime.md. */
public final class Card {
    static final int TRANSIENT_LIMIT = Integer.getInteger("purse.jc.transientBytes", 2048);
    static final int APDU_BUFFER_SIZE = 261;
    private static final byte[] MAGIC = {'P', 'U', 'R', 'S', 'E', 'J', 'C', '1'};
    /** Image of a card with an applet variant: MAGIC_V | LEN | VARIANT (ASCII), then as MAGIC. */
    private static final byte[] MAGIC_V = {'P', 'U', 'R', 'S', 'E', 'J', 'C', 'V'};
    private static final byte[] HIST = {'p', 'u', 'r', 's', 'e'};
    private static final boolean DEBUG = Boolean.getBoolean("purse.jc.debug");
    private static final Object LOCK = new Object();

    /** The card whose code is running (install, command, load); hooks act on it. */
    static Card current;

    private final Path path;
    final AppletLoader loader;
    CardImage img = new CardImage();

    // volatile (RAM) state
    private static final class TInfo {
        final int kind;
        final byte event;
        final AppletRecord owner;

        TInfo(int kind, byte event, AppletRecord owner) {
            this.kind = kind;
            this.event = event;
            this.owner = owner;
        }
    }

    private final IdentityHashMap<Object, TInfo> transients = new IdentityHashMap<>();
    int transientBytes;
    final byte[] apduBuffer = new byte[APDU_BUFFER_SIZE];
    final Tx tx = new Tx();
    Counters last = new Counters();
    boolean powered;
    boolean t0;
    AppletRecord selected;
    AppletRecord context;
    boolean selecting;
    AppletRecord installing;
    byte[] installAid;
    boolean dirty;
    private int cmdWrites;
    private int tearAt;
    private int armedTear;
    private boolean torn;
    private byte[] pending;
    private int pendingPos;
    private int pendingSw;
    private byte[] reissueHeader;
    private final HashMap<Class<?>, HashMap<String, Field>> fieldCache = new HashMap<>();

    private Card(Path path, String variant) {
        this.path = path;
        this.loader = new AppletLoader(Card.class.getClassLoader(), variant);
    }

    /** The applet build this card runs: null for the normal classes, else e.g. "user" (AppletLoader). */
    public String variant() {
        return loader.variant;
    }

    // ------------------------------------------------------------------ lifecycle

    public static Card create(Path image, String appletClass, byte[] aid, byte[] installParams) throws IOException {
        return create(image, appletClass, aid, installParams, null);
    }

    /**
     * A new card whose applet classes come from variant (null: the normal ones; "user": the
     * user-card applet, variants/user/ in the desk jar). The image records it: load() runs the same code.
     */
    public static Card create(Path image, String appletClass, byte[] aid, byte[] installParams, String variant)
            throws IOException {
        if (variant != null && !AppletLoader.hasVariant(Card.class.getClassLoader(), variant, appletClass)) {
            throw new IllegalArgumentException("no applet variant '" + variant + "' of " + appletClass
                    + " in the desk jar (variants/" + variant + "/)");
        }
        if (Files.exists(image)) {
            throw new FileAlreadyExistsException(image.toString());
        }
        if (aid == null || aid.length < 5 || aid.length > 16) {
            throw new IllegalArgumentException("AID must be 5..16 bytes");
        }
        byte[] params = installParams == null ? new byte[0] : installParams;
        if (params.length > 255 - aid.length - 3) {
            throw new IllegalArgumentException("install parameters too long");
        }
        Card c = new Card(image, variant);
        synchronized (LOCK) {
            Card prev = current;
            current = c;
            try {
                c.powerOnInternal();
                Class<?> cls;
                try {
                    cls = Class.forName(appletClass, true, c.loader);
                } catch (ClassNotFoundException e) {
                    throw new IOException("applet class not found: " + appletClass, e);
                }
                byte[] data = new byte[3 + aid.length + params.length];
                data[0] = (byte) aid.length;
                System.arraycopy(aid, 0, data, 1, aid.length);
                data[1 + aid.length] = 0;
                data[2 + aid.length] = (byte) params.length;
                System.arraycopy(params, 0, data, 3 + aid.length, params.length);
                AppletRecord rec = new AppletRecord();
                c.installing = rec;
                c.installAid = aid.clone();
                c.context = rec;
                try {
                    Method m = cls.getMethod("install", byte[].class, short.class, byte.class);
                    m.invoke(null, data, (short) 0, (byte) data.length);
                } catch (InvocationTargetException e) {
                    throw new IOException("install failed: " + e.getCause(), e.getCause());
                } catch (ReflectiveOperationException e) {
                    throw new IOException("install failed: " + e, e);
                } finally {
                    c.installing = null;
                    c.context = null;
                    if (c.tx.open) {
                        c.tx.abort();
                    }
                }
                if (rec.applet == null) {
                    throw new IOException("applet did not register");
                }
                c.img.applets.add(rec);
                c.last = new Counters();
                c.img.total = new Counters();
                c.img.last = new Counters();
                c.powerOffInternal();
            } finally {
                current = prev;
            }
            c.save();
        }
        return c;
    }

    public static Card load(Path image) throws IOException {
        byte[] all = Files.readAllBytes(image);
        byte[] head = Arrays.copyOf(all, Math.min(all.length, MAGIC.length));
        int start = MAGIC.length;
        String variant = null;
        if (Arrays.equals(head, MAGIC_V) && all.length > MAGIC.length) {
            int n = all[MAGIC.length] & 0xFF;
            start = MAGIC.length + 1 + n;
            if (all.length < start) {
                throw new IOException("not a purse card image: " + image);
            }
            variant = new String(all, MAGIC.length + 1, n, java.nio.charset.StandardCharsets.US_ASCII);
            if (!AppletLoader.validVariant(variant)) {
                throw new IOException("card image " + image + " names a bad applet variant: " + variant);
            }
        } else if (!Arrays.equals(head, MAGIC)) {
            throw new IOException("not a purse card image: " + image);
        }
        Card c = new Card(image, variant);
        synchronized (LOCK) {
            Card prev = current;
            current = c;
            try (ImageIn in = new ImageIn(new ByteArrayInputStream(all, start, all.length - start), c)) {
                c.img = (CardImage) in.readObject();
                c.restoreStatics();
            } catch (ReflectiveOperationException e) {
                throw new IOException("cannot load image " + image + ": " + e, e);
            } finally {
                current = prev;
            }
        }
        c.last = c.img.last.copy();
        return c;
    }

    /**
     * Per-APDU operation log for the cost model (docs/runtime.md): if the file IMAGE.ops exists,
     * one JSON line per command is appended to it (INS, lengths, SW, the command's counters).
     * `purse bench` creates the file before a measured flow and reads it after. Not fsynced.
     */
    private void logOps(byte[] command, byte[] r) {
        if (path == null) {
            return;
        }
        Path ops = path.toAbsolutePath().resolveSibling(path.getFileName() + ".ops");
        if (!Files.exists(ops)) {
            return;
        }
        int ins = command != null && command.length > 1 ? command[1] & 0xFF : -1;
        int sw = r.length >= 2 ? ((r[r.length - 2] & 0xFF) << 8) | (r[r.length - 1] & 0xFF) : -1;
        String line = String.format("{\"ins\":\"%02X\",\"sw\":\"%04X\",\"c\":%s}%n", ins, sw, last.toJson());
        try {
            Files.write(ops, line.getBytes(java.nio.charset.StandardCharsets.US_ASCII), StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("desk: cannot append to " + ops + ": " + e.getMessage());
        }
    }

    /** Bytes of transient memory (CLEAR_ON_RESET + CLEAR_ON_DESELECT arrays, transient key data) in use. */
    public int transientBytes() {
        return transientBytes;
    }

    public void save() throws IOException {
        synchronized (LOCK) {
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            String v = loader.variant;
            if (v == null) {
                bos.write(MAGIC);
            } else {
                bos.write(MAGIC_V);
                byte[] vb = v.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                bos.write(vb.length);
                bos.write(vb);
            }
            img.last = last.copy();
            try (ImageOut out = new ImageOut(bos, this)) {
                img.statics = snapshotStatics();
                out.writeObject(img);
            } catch (IllegalAccessException e) {
                throw new IOException(e);
            }
            byte[] bytes = bos.toByteArray();
            Path abs = path.toAbsolutePath();
            Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel d = FileChannel.open(abs.getParent(), StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException ignored) {
                // directory fsync is best effort
            }
        }
    }

    public byte[] atr() {
        if (t0) {
            byte[] a = new byte[2 + HIST.length];
            a[0] = 0x3B;
            a[1] = (byte) HIST.length;
            System.arraycopy(HIST, 0, a, 2, HIST.length);
            return a;
        }
        // TS T0 TD1(T=1,TD2 follows) TD2(TA3,TB3,T=1) TA3=IFSC 254 TB3=BWI 4/CWI 5, history, TCK
        byte[] a = new byte[6 + HIST.length + 1];
        a[0] = 0x3B;
        a[1] = (byte) (0x80 | HIST.length);
        a[2] = (byte) 0x81;
        a[3] = 0x31;
        a[4] = (byte) 0xFE;
        a[5] = 0x45;
        System.arraycopy(HIST, 0, a, 6, HIST.length);
        byte tck = 0;
        for (int i = 1; i < a.length - 1; i++) {
            tck ^= a[i];
        }
        a[a.length - 1] = tck;
        return a;
    }

    public void setT0(boolean t0) {
        this.t0 = t0;
    }

    public void powerOn() {
        synchronized (LOCK) {
            powerOnInternal();
        }
    }

    public void powerOff() {
        synchronized (LOCK) {
            powerOffInternal();
        }
    }

    public void reset() {
        synchronized (LOCK) {
            powerOffInternal();
            powerOnInternal();
        }
    }

    public boolean isPowered() {
        return powered;
    }

    private void powerOnInternal() {
        powered = true;
        torn = false;
        selected = null;
        Arrays.fill(apduBuffer, (byte) 0);
    }

    private void powerOffInternal() {
        if (tx.open) {
            tx.abort();
        }
        for (Map.Entry<Object, TInfo> e : transients.entrySet()) {
            clearArray(e.getKey());
        }
        Arrays.fill(apduBuffer, (byte) 0);
        selected = null;
        pending = null;
        reissueHeader = null;
        powered = false;
    }

    public void armTear(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("tear point k must be >= 1");
        }
        armedTear = k;
    }

    /** Persistent writes done by the last command (also when it was torn: the writes before the tear). */
    public int lastCommandWrites() {
        return cmdWrites;
    }

    public Counters total() {
        return img.total.copy();
    }

    public Counters last() {
        return last.copy();
    }

    public List<String> appletInfo() {
        List<String> l = new ArrayList<>();
        for (AppletRecord r : img.applets) {
            l.add(hex(r.aidBytes) + " " + r.className);
        }
        return l;
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02X", x & 0xFF));
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ commands

    public byte[] transmit(byte[] command) {
        synchronized (LOCK) {
            Card prev = current;
            current = this;
            last = new Counters();
            last.apdus = 1;
            cmdWrites = 0;
            tearAt = armedTear;
            armedTear = 0;
            dirty = false;
            try {
                if (!powered) {
                    powerOnInternal();
                }
                byte[] r = dispatch(command);
                if (torn) {
                    throw new PowerLoss();
                }
                last.bytesIn = command == null ? 0 : command.length;
                last.bytesOut = r.length;
                img.total.add(last);
                logOps(command, r);
                if (dirty) {
                    try {
                        save();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return r;
            } catch (PowerLoss pl) {
                powerOffInternal();
                img.total.add(last);
                try {
                    save();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                throw pl;
            } finally {
                tearAt = 0;
                selecting = false;
                context = null;
                current = prev;
            }
        }
    }

    private static byte[] sw(int sw) {
        return new byte[] {(byte) (sw >> 8), (byte) sw};
    }

    private static byte[] concat(byte[] data, int off, int len, int sw) {
        byte[] r = new byte[len + 2];
        System.arraycopy(data, off, r, 0, len);
        r[len] = (byte) (sw >> 8);
        r[len + 1] = (byte) sw;
        return r;
    }

    private byte[] dispatch(byte[] cmd) {
        if (cmd == null || cmd.length < 4) {
            return sw(0x6700);
        }
        int lc = 0;
        int ne = -1;
        int caseNo;
        if (cmd.length == 4) {
            caseNo = 1;
        } else {
            int p3 = cmd[4] & 0xFF;
            if (cmd.length == 5) {
                caseNo = 2;
                ne = p3 == 0 ? 256 : p3;
            } else if (p3 == 0) {
                return sw(0x6700); // extended length: not supported
            } else if (cmd.length == 5 + p3) {
                caseNo = 3;
                lc = p3;
            } else if (cmd.length == 6 + p3) {
                caseNo = 4;
                lc = p3;
                int le = cmd[cmd.length - 1] & 0xFF;
                ne = le == 0 ? 256 : le;
            } else {
                return sw(0x6700);
            }
        }
        int cla = cmd[0] & 0xFF;
        int ins = cmd[1] & 0xFF;
        if (t0 && pending != null) {
            if (cla == 0x00 && ins == 0xC0 && caseNo == 2) {
                return getResponse(ne);
            }
            if (reissueHeader != null && cmd.length == 5 && Arrays.equals(cmd, reissueHeader)) {
                return getResponse(ne);
            }
        }
        pending = null;
        reissueHeader = null;
        // logical channels are not supported
        if ((cla & 0x80) == 0 && (((cla & 0x40) == 0 && (cla & 0x03) != 0) || ((cla & 0x40) != 0 && (cla & 0x0F) != 0))) {
            return sw(0x6881);
        }
        if ((cla & 0x80) == 0 && ins == 0x70) {
            return sw(0x6881); // MANAGE CHANNEL
        }
        byte[] out;
        int status;
        if ((cla & 0xFC) == 0 && ins == 0xA4 && (cmd[2] & 0xFF) == 0x04 && caseNo >= 3) {
            AppletRecord target = findExact(Arrays.copyOfRange(cmd, 5, 5 + lc));
            if (target == null) {
                target = findPartial(cmd, 5, lc);
            }
            if (target == null) {
                if (selected == null) {
                    return sw(0x6A82);
                }
                return finish(runProcess(selected, cmd, lc, ne, false), caseNo, ne, cmd);
            }
            if (selected != null) {
                deselect(selected);
            }
            boolean ok;
            context = target;
            try {
                ok = target.applet.select();
            } catch (PowerLoss pl) {
                throw pl;
            } catch (Throwable t) {
                debug(t);
                ok = false;
            } finally {
                if (tx.open) {
                    tx.abort();
                }
                context = null;
            }
            if (!ok || torn) {
                clearDeselect(target);
                return sw(0x6999);
            }
            selected = target;
            return finish(runProcess(target, cmd, lc, ne, true), caseNo, ne, cmd);
        }
        if (selected == null) {
            return sw(0x6999);
        }
        return finish(runProcess(selected, cmd, lc, ne, false), caseNo, ne, cmd);
    }

    private void deselect(AppletRecord r) {
        context = r;
        try {
            r.applet.deselect();
        } catch (PowerLoss pl) {
            throw pl;
        } catch (Throwable t) {
            debug(t);
        } finally {
            if (tx.open) {
                tx.abort();
            }
            context = null;
        }
        clearDeselect(r);
        selected = null;
    }

    private void clearDeselect(AppletRecord r) {
        for (Map.Entry<Object, TInfo> e : transients.entrySet()) {
            TInfo t = e.getValue();
            if (t.event == JCSystem.CLEAR_ON_DESELECT && (t.owner == r || t.owner == null)) {
                clearArray(e.getKey());
            }
        }
    }

    /** Returns response data followed by the status word (2 bytes). */
    private byte[] runProcess(AppletRecord r, byte[] cmd, int lc, int ne, boolean selectingNow) {
        ApduAccess acc = JCRE.apdu();
        Arrays.fill(apduBuffer, (byte) 0);
        System.arraycopy(cmd, 0, apduBuffer, 0, Math.min(5, cmd.length));
        byte[] full = cmd.length == 4 ? Arrays.copyOf(cmd, 5) : cmd;
        APDU apdu = acc.begin(apduBuffer, full, lc, ne, t0);
        context = r;
        selecting = selectingNow;
        try {
            r.applet.process(apdu);
            byte[] data = acc.response(apdu);
            return concat(data, 0, data.length, 0x9000);
        } catch (PowerLoss pl) {
            throw pl;
        } catch (ISOException e) {
            return sw(e.getReason() & 0xFFFF);
        } catch (Throwable t) {
            debug(t);
            return sw(0x6F00);
        } finally {
            acc.end();
            selecting = false;
            context = null;
            if (tx.open) {
                tx.abort();
            }
        }
    }

    private static void debug(Throwable t) {
        if (DEBUG) {
            t.printStackTrace();
        }
    }

    /** Applies the T=0 response rules to a data+SW response. */
    private byte[] finish(byte[] resp, int caseNo, int ne, byte[] cmd) {
        if (torn) {
            throw new PowerLoss();
        }
        int len = resp.length - 2;
        if (!t0 || len == 0) {
            return resp;
        }
        int sw = ((resp[len] & 0xFF) << 8) | (resp[len + 1] & 0xFF);
        if (caseNo == 2 && ne == len) {
            return resp;
        }
        pending = Arrays.copyOf(resp, len);
        pendingPos = 0;
        pendingSw = sw;
        if (caseNo == 2) {
            reissueHeader = Arrays.copyOf(cmd, 5);
            reissueHeader[4] = (byte) len;
            return sw(0x6C00 | (len & 0xFF));
        }
        reissueHeader = null;
        return sw(0x6100 | (len & 0xFF));
    }

    private byte[] getResponse(int ne) {
        int avail = pending.length - pendingPos;
        if (ne > avail) {
            if (reissueHeader != null) {
                reissueHeader[4] = (byte) avail;
            }
            return sw(0x6C00 | (avail & 0xFF));
        }
        if (ne < avail) {
            byte[] r = concat(pending, pendingPos, ne, 0x6100 | ((avail - ne) & 0xFF));
            pendingPos += ne;
            reissueHeader = null;
            return r;
        }
        byte[] r = concat(pending, pendingPos, avail, pendingSw);
        pending = null;
        reissueHeader = null;
        return r;
    }

    AppletRecord findExact(byte[] aid) {
        for (AppletRecord r : img.applets) {
            if (Arrays.equals(r.aidBytes, aid)) {
                return r;
            }
        }
        return null;
    }

    private AppletRecord findPartial(byte[] b, int off, int len) {
        for (AppletRecord r : img.applets) {
            if (len <= r.aidBytes.length
                    && Arrays.equals(r.aidBytes, 0, len, b, off, off + len)) {
                return r;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ memory

    boolean isTransientArray(Object a) {
        return a == apduBuffer || transients.containsKey(a);
    }

    byte transientEvent(Object o) {
        if (o == apduBuffer) {
            return JCSystem.CLEAR_ON_RESET;
        }
        TInfo t = transients.get(o);
        return t == null ? JCSystem.NOT_A_TRANSIENT_OBJECT : t.event;
    }

    static int transientCost(int kind, int length) {
        return kind == JCRE.KIND_SHORT || kind == JCRE.KIND_OBJECT ? 2 * length : length;
    }

    static Object newArray(int kind, int length) {
        switch (kind) {
            case JCRE.KIND_BOOLEAN:
                return new boolean[length];
            case JCRE.KIND_BYTE:
                return new byte[length];
            case JCRE.KIND_SHORT:
                return new short[length];
            default:
                return new Object[length];
        }
    }

    Object newTransient(int kind, int length, byte event, AppletRecord owner) {
        Object a = newArray(kind, length);
        transients.put(a, new TInfo(kind, event, owner));
        transientBytes += transientCost(kind, length);
        return a;
    }

    private static void clearArray(Object a) {
        if (a instanceof byte[]) {
            Arrays.fill((byte[]) a, (byte) 0);
        } else if (a instanceof short[]) {
            Arrays.fill((short[]) a, (short) 0);
        } else if (a instanceof boolean[]) {
            Arrays.fill((boolean[]) a, false);
        } else if (a instanceof Object[]) {
            Arrays.fill((Object[]) a, null);
        }
    }

    private void tearPoint() {
        if (torn) {
            throw new PowerLoss();
        }
        cmdWrites++;
        if (tearAt > 0 && cmdWrites == tearAt) {
            torn = true;
            throw new PowerLoss();
        }
    }

    private void count(int bytes) {
        last.persistentWrites++;
        last.bytesWritten += bytes;
        dirty = true;
    }

    void arrayWrite(Object array, int off, int count, int elemBytes, boolean atomic) {
        tearPoint();
        if (atomic && tx.open) {
            tx.reserve(count * elemBytes);
            tx.logArray(array, off, count);
        }
        count(count * elemBytes);
    }

    void fieldWrite(Object obj, String owner, String name, int bytes) {
        tearPoint();
        if (tx.open) {
            Field f = field(obj.getClass(), owner, name);
            tx.reserve(bytes);
            tx.logField(obj, f);
        }
        count(bytes);
    }

    void staticWrite(String owner, String name, int bytes) {
        tearPoint();
        if (tx.open) {
            Class<?> k;
            try {
                k = Class.forName(owner.replace('/', '.'), false, loader);
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException(e);
            }
            Field f = field(k, owner, name);
            tx.reserve(bytes);
            tx.logField(null, f);
        }
        count(bytes);
    }

    private Field field(Class<?> cls, String owner, String name) {
        HashMap<String, Field> m = fieldCache.computeIfAbsent(cls, k -> new HashMap<>());
        String key = owner + '.' + name;
        Field f = m.get(key);
        if (f == null) {
            String dotted = owner.replace('/', '.');
            Class<?> k = cls;
            while (k != null && !k.getName().equals(dotted)) {
                k = k.getSuperclass();
            }
            for (Class<?> s = k == null ? cls : k; s != null && f == null; s = s.getSuperclass()) {
                try {
                    f = s.getDeclaredField(name);
                } catch (NoSuchFieldException e) {
                    // keep looking upwards
                }
            }
            if (f == null) {
                throw new IllegalStateException("field not found: " + key);
            }
            f.setAccessible(true);
            m.put(key, f);
        }
        return f;
    }

    // ------------------------------------------------------------------ image

    private HashMap<String, HashMap<String, Object>> snapshotStatics() throws IllegalAccessException {
        HashMap<String, HashMap<String, Object>> s = new HashMap<>();
        List<Class<?>> classes;
        synchronized (loader.defined) {
            classes = new ArrayList<>(loader.defined);
        }
        for (Class<?> k : classes) {
            if (k.isInterface()) {
                continue;
            }
            HashMap<String, Object> m = new HashMap<>();
            for (Field f : k.getDeclaredFields()) {
                int mod = f.getModifiers();
                if (Modifier.isStatic(mod) && !Modifier.isFinal(mod)) {
                    f.setAccessible(true);
                    m.put(f.getName(), f.get(null));
                }
            }
            if (!m.isEmpty()) {
                s.put(k.getName(), m);
            }
        }
        return s;
    }

    private void restoreStatics() throws ReflectiveOperationException {
        for (Map.Entry<String, HashMap<String, Object>> e : img.statics.entrySet()) {
            Class<?> k = Class.forName(e.getKey(), true, loader);
            for (Map.Entry<String, Object> v : e.getValue().entrySet()) {
                Field f;
                try {
                    f = k.getDeclaredField(v.getKey());
                } catch (NoSuchFieldException ex) {
                    continue; // class changed since the image was written
                }
                if (Modifier.isStatic(f.getModifiers()) && !Modifier.isFinal(f.getModifiers())) {
                    f.setAccessible(true);
                    f.set(null, v.getValue());
                }
            }
        }
    }

    private static final class ImageOut extends ObjectOutputStream {
        private final Card card;

        ImageOut(OutputStream out, Card card) throws IOException {
            super(out);
            this.card = card;
            enableReplaceObject(true);
        }

        @Override
        protected Object replaceObject(Object obj) {
            if (obj != null && obj.getClass().isArray()) {
                TInfo t = card.transients.get(obj);
                if (t != null) {
                    return new TransientMarker(t.kind, java.lang.reflect.Array.getLength(obj), t.event, t.owner);
                }
                if (obj == card.apduBuffer) {
                    return new TransientMarker(JCRE.KIND_BYTE, APDU_BUFFER_SIZE, JCSystem.CLEAR_ON_RESET, null);
                }
            }
            return obj;
        }
    }

    private static final class ImageIn extends ObjectInputStream {
        private final Card card;

        ImageIn(InputStream in, Card card) throws IOException {
            super(in);
            this.card = card;
            enableResolveObject(true);
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            return Class.forName(desc.getName(), false, card.loader);
        }

        @Override
        protected Object resolveObject(Object obj) {
            if (obj instanceof TransientMarker) {
                TransientMarker m = (TransientMarker) obj;
                return card.newTransient(m.kind, m.length, m.event, m.owner);
            }
            return obj;
        }
    }
}
