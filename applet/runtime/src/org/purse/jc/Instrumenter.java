package org.purse.jc;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Rewrites an applet class: every PUTFIELD/PUTSTATIC gets a Mem.putField/putStatic call in front
 * (tear point, counters, undo log), every xASTORE becomes a call to Mem.xastore; the class is made
 * Serializable with serialVersionUID 1; static fields lose ACC_FINAL unless they are compile-time
 * constants (so the engine can restore them from the image). Static initialisers are left alone.
 * Only straight-line code is inserted, so existing stack map frames stay valid.
 */
final class Instrumenter {
    static final String MEM = "org/purse/jc/Mem";

    private Instrumenter() {
    }

    static byte[] instrument(byte[] code) {
        ClassReader cr = new ClassReader(code);
        ClassWriter cw = new ClassWriter(cr, ClassWriter.COMPUTE_MAXS);
        cr.accept(new CV(cw), 0);
        return cw.toByteArray();
    }

    static int size(String desc) {
        switch (desc.charAt(0)) {
            case 'Z':
            case 'B':
                return 1;
            case 'S':
            case 'C':
                return 2;
            case 'I':
            case 'F':
                return 4;
            case 'J':
            case 'D':
                return 8;
            default:
                return 2; // reference
        }
    }

    private static final class CV extends ClassVisitor {
        boolean isInterface;
        boolean hasSuid;

        CV(ClassVisitor cv) {
            super(Opcodes.ASM9, cv);
        }

        @Override
        public void visit(int version, int access, String name, String sig, String superName, String[] itfs) {
            isInterface = (access & Opcodes.ACC_INTERFACE) != 0;
            if (!isInterface) {
                boolean has = false;
                for (String i : itfs) {
                    has |= i.equals("java/io/Serializable");
                }
                if (!has) {
                    String[] n = new String[itfs.length + 1];
                    System.arraycopy(itfs, 0, n, 0, itfs.length);
                    n[itfs.length] = "java/io/Serializable";
                    itfs = n;
                }
            }
            super.visit(version, access, name, sig, superName, itfs);
        }

        @Override
        public FieldVisitor visitField(int access, String name, String desc, String sig, Object value) {
            if (name.equals("serialVersionUID")) {
                hasSuid = true;
            } else if (!isInterface && (access & Opcodes.ACC_STATIC) != 0 && (access & Opcodes.ACC_FINAL) != 0
                    && value == null) {
                access &= ~Opcodes.ACC_FINAL;
            }
            return super.visitField(access, name, desc, sig, value);
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exc) {
            MethodVisitor mv = super.visitMethod(access, name, desc, sig, exc);
            if (mv == null || name.equals("<clinit>")) {
                return mv;
            }
            return new MV(mv, name.equals("<init>"));
        }

        @Override
        public void visitEnd() {
            if (!isInterface && !hasSuid) {
                FieldVisitor fv = super.visitField(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC | Opcodes.ACC_FINAL
                        | Opcodes.ACC_SYNTHETIC, "serialVersionUID", "J", null, 1L);
                if (fv != null) {
                    fv.visitEnd();
                }
            }
            super.visitEnd();
        }
    }

    private static final class MV extends MethodVisitor {
        /** In a constructor, fields of the uninitialised 'this' may not be passed around before super(). */
        boolean initDone;
        int pendingNew;

        MV(MethodVisitor mv, boolean ctor) {
            super(Opcodes.ASM9, mv);
            initDone = !ctor;
        }

        @Override
        public void visitTypeInsn(int opcode, String type) {
            if (opcode == Opcodes.NEW) {
                pendingNew++;
            }
            super.visitTypeInsn(opcode, type);
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String desc, boolean itf) {
            super.visitMethodInsn(opcode, owner, name, desc, itf);
            if (!initDone && opcode == Opcodes.INVOKESPECIAL && name.equals("<init>")) {
                if (pendingNew == 0) {
                    initDone = true;
                } else {
                    pendingNew--;
                }
            }
        }

        private void mem(String name, String desc) {
            super.visitMethodInsn(Opcodes.INVOKESTATIC, MEM, name, desc, false);
        }

        @Override
        public void visitInsn(int opcode) {
            switch (opcode) {
                case Opcodes.BASTORE:
                    mem("bastore", "(Ljava/lang/Object;II)V");
                    return;
                case Opcodes.SASTORE:
                    mem("sastore", "([SII)V");
                    return;
                case Opcodes.CASTORE:
                    mem("castore", "([CII)V");
                    return;
                case Opcodes.IASTORE:
                    mem("iastore", "([III)V");
                    return;
                case Opcodes.LASTORE:
                    mem("lastore", "([JIJ)V");
                    return;
                case Opcodes.FASTORE:
                    mem("fastore", "([FIF)V");
                    return;
                case Opcodes.DASTORE:
                    mem("dastore", "([DID)V");
                    return;
                case Opcodes.AASTORE:
                    mem("aastore", "([Ljava/lang/Object;ILjava/lang/Object;)V");
                    return;
                default:
                    super.visitInsn(opcode);
            }
        }

        @Override
        public void visitFieldInsn(int opcode, String owner, String name, String desc) {
            if (opcode == Opcodes.PUTFIELD && initDone) {
                if (desc.equals("J") || desc.equals("D")) {
                    super.visitInsn(Opcodes.DUP2_X1);
                    super.visitInsn(Opcodes.POP2);
                    super.visitInsn(Opcodes.DUP_X2);
                } else {
                    super.visitInsn(Opcodes.DUP2);
                    super.visitInsn(Opcodes.POP);
                }
                super.visitLdcInsn(owner);
                super.visitLdcInsn(name);
                super.visitIntInsn(Opcodes.BIPUSH, size(desc));
                mem("putField", "(Ljava/lang/Object;Ljava/lang/String;Ljava/lang/String;I)V");
            } else if (opcode == Opcodes.PUTSTATIC) {
                super.visitLdcInsn(owner);
                super.visitLdcInsn(name);
                super.visitIntInsn(Opcodes.BIPUSH, size(desc));
                mem("putStatic", "(Ljava/lang/String;Ljava/lang/String;I)V");
            }
            super.visitFieldInsn(opcode, owner, name, desc);
        }
    }
}
