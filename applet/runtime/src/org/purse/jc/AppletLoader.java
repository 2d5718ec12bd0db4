package org.purse.jc;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One per card (so applet statics are per card). Loads applet classes child-first from the
 * parent's resources and instruments them; platform and runtime classes are delegated. A card
 * with a variant (e.g. "user": the user-card applet, built from applet/src-user) reads each applet
 * class from variants/VARIANT/ in the desk jar first, falling back to the normal class.
 */
final class AppletLoader extends ClassLoader {
    static {
        registerAsParallelCapable();
    }

    final List<Class<?>> defined = new ArrayList<>();

    /** null: the normal classes. */
    final String variant;

    AppletLoader(ClassLoader parent, String variant) {
        super(parent);
        this.variant = variant;
    }

    /** A variant name: lower-case letters, digits and '-' (it becomes a resource path). */
    static boolean validVariant(String v) {
        return v != null && v.matches("[a-z0-9][a-z0-9-]{0,31}");
    }

    /** Whether the desk jar (the parent's resources) carries variant v of applet class cls. */
    static boolean hasVariant(ClassLoader parent, String v, String cls) {
        return validVariant(v) && parent.getResource(variantPath(v, cls)) != null;
    }

    private static String variantPath(String v, String name) {
        return "variants/" + v + "/" + name.replace('.', '/') + ".class";
    }

    static boolean isRuntime(String n) {
        return n.startsWith("java.") || n.startsWith("javax.") || n.startsWith("javacard.")
                || n.startsWith("javacardx.") || n.startsWith("org.purse.jc.") || n.startsWith("sun.")
                || n.startsWith("jdk.") || n.startsWith("org.objectweb.asm.") || n.startsWith("org.junit.")
                || n.startsWith("com.sun.");
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (isRuntime(name)) {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                byte[] code;
                InputStream vin = variant == null ? null : getParent().getResourceAsStream(variantPath(variant, name));
                try (InputStream in = vin != null ? vin : getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                    if (in == null) {
                        throw new ClassNotFoundException(name);
                    }
                    code = in.readAllBytes();
                } catch (IOException e) {
                    throw new ClassNotFoundException(name, e);
                }
                byte[] out = Instrumenter.instrument(code);
                c = defineClass(name, out, 0, out.length);
                synchronized (defined) {
                    defined.add(c);
                }
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }
}
