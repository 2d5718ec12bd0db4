/*
 * purse: protocol constants. Mirrors docs/protocol.md exactly (that file wins on any disagreement).
 * JavaCard 3.0.4 classic: public static final byte/short only. An interface, not a class: no
 * constructor in the CAP (compile-time constants cost no bytecode either way).
 */
package org.purse.applet;

public interface Constants {

    // ------------------------------------------------------------------ version (SELECT response)
    public static final byte VERSION_MAJOR = (byte) 0x07;
    public static final byte VERSION_MINOR = (byte) 0x00;

    // ------------------------------------------------------------------ CLA / INS (protocol.md 4.1)
    public static final byte CLA_ISO = (byte) 0x00;
    public static final byte CLA_PURSE = (byte) 0x80;

    public static final byte INS_SELECT = (byte) 0xA4;
    public static final byte INS_AUTH_INIT = (byte) 0x10;
    public static final byte INS_AUTH_FINISH = (byte) 0x12;
    public static final byte INS_ISSUE_BEGIN = (byte) 0x14;
    public static final byte INS_ISSUE_AUTH = (byte) 0x16;
    public static final byte INS_ISSUE_CONFIRM = (byte) 0x18;
    public static final byte INS_MINT = (byte) 0x1A;
    public static final byte INS_VERIFY = (byte) 0x20;
    public static final byte INS_CHANGE_REF = (byte) 0x24;
    public static final byte INS_GET_STATUS = (byte) 0x30;
    public static final byte INS_GET_PENDING = (byte) 0x32;
    public static final byte INS_READ_PASSBOOK = (byte) 0x34;
    public static final byte INS_READ_EXCEPTIONS = (byte) 0x36;
    // 40 reserved, never used (was XFER_PAYEE_INIT: its RP now comes with SELECT, its checks run at 44)
    public static final byte INS_XFER_PAYER_INIT = (byte) 0x42;
    public static final byte INS_XFER_PAYEE_P1 = (byte) 0x44;
    public static final byte INS_XFER_PAYER_P2P3 = (byte) 0x46;
    public static final byte INS_XFER_PAYEE_P4 = (byte) 0x48;
    public static final byte INS_XFER_PAYER_ACK = (byte) 0x4A;
    public static final byte INS_XFER_ABORT = (byte) 0x4C;
    public static final byte INS_RESUME_GET_P4 = (byte) 0x50;
    public static final byte INS_RESUME_GET_OUTCOME = (byte) 0x52;
    public static final byte INS_PENDING_TO_EXCEPTION = (byte) 0x54;
    // issue 4 (reserved, protocol.md 12.1)
    public static final byte INS_SYNC_CARD_INIT = (byte) 0x70;
    public static final byte INS_SYNC_BANK_INIT = (byte) 0x72;
    public static final byte INS_SYNC_CARD_S1 = (byte) 0x74;
    public static final byte INS_SYNC_BANK_P5 = (byte) 0x76;
    public static final byte INS_SYNC_CARD_P6 = (byte) 0x78;
    public static final byte INS_SYNC_BANK_ACK = (byte) 0x7A;
    public static final byte INS_UNBLOCK_PIN = (byte) 0x7E;
    public static final byte INS_CENTER_ADVANCE = (byte) 0x80;
    public static final byte INS_ADMIN_INIT = (byte) 0x82;
    public static final byte INS_ADMIN_OP = (byte) 0x84;
    public static final byte INS_ADMIN_APPLY = (byte) 0x86;
    public static final byte INS_ADMIN_ACK = (byte) 0x88;
    public static final byte INS_READ_BAD_CARDS = (byte) 0x8A;
    public static final byte INS_SET_PRIVACY = (byte) 0x8C;

    // P1 of XFER_ABORT
    public static final byte ABORT_SESSION = (byte) 0x00;
    public static final byte ABORT_EXPECTED = (byte) 0x01;

    // P2 of VERIFY / CHANGE REFERENCE DATA
    public static final byte REF_PIN = (byte) 0x01;
    public static final byte REF_TXKEY = (byte) 0x02;
    public static final byte REF_CREATION = (byte) 0x03;
    public static final byte REF_APPROVAL = (byte) 0x04;

    // ------------------------------------------------------------------ status words (protocol.md 4.2)
    public static final short SW_OK = (short) 0x9000;
    public static final short SW_WRONG_LENGTH = (short) 0x6700;
    public static final short SW_WRONG_DATA = (short) 0x6A80;
    public static final short SW_FUNC_NOT_SUPPORTED = (short) 0x6A81;
    public static final short SW_RECORD_NOT_FOUND = (short) 0x6A83;
    public static final short SW_WRONG_P1P2 = (short) 0x6A86;
    public static final short SW_INS_NOT_SUPPORTED = (short) 0x6D00;
    public static final short SW_CLA_NOT_SUPPORTED = (short) 0x6E00;
    public static final short SW_SECURITY_STATUS = (short) 0x6982;
    public static final short SW_AUTH_BLOCKED = (short) 0x6983;
    public static final short SW_CONDITIONS = (short) 0x6985;
    /** OR with the number of tries left (0..15). */
    public static final short SW_VERIFY_FAILED = (short) 0x63C0;

    public static final short SW_LOCKED = (short) 0x9D01;
    public static final short SW_NO_COMMON_KEYS = (short) 0x9D02;
    public static final short SW_BAD_PACKET = (short) 0x9D03;
    public static final short SW_PAIR_NOT_ALLOWED = (short) 0x9D04;
    public static final short SW_INSUFFICIENT_FUNDS = (short) 0x9D05;
    public static final short SW_OVERFLOW = (short) 0x9D06;
    public static final short SW_AMOUNT_MISMATCH = (short) 0x9D07;
    public static final short SW_PASSBOOK_FULL = (short) 0x9D08;
    public static final short SW_PENDING_OUT = (short) 0x9D09;
    public static final short SW_PAYEE_EXPECTING = (short) 0x9D0A;
    public static final short SW_UNKNOWN_TRANSFER = (short) 0x9D0B;
    public static final short SW_ALREADY_CREDITED = (short) 0x9D0C;
    public static final short SW_CURRENCY_MISMATCH = (short) 0x9D0D;
    public static final short SW_BAD_NAME = (short) 0x9D0E;
    public static final short SW_SAME_CARD = (short) 0x9D0F;
    public static final short SW_EXCEPTION_LOG_FULL = (short) 0x9D10;
    public static final short SW_INTEGRITY = (short) 0x9D11;
    public static final short SW_WRONG_ROLE = (short) 0x9D12;
    public static final short SW_PIN_REQUIRED = (short) 0x9D13;
    public static final short SW_TXKEY_REQUIRED = (short) 0x9D14;
    public static final short SW_APPROVAL_REQUIRED = (short) 0x9D15;
    public static final short SW_CREATION_REQUIRED = (short) 0x9D16;
    public static final short SW_ACCOUNTS_EXHAUSTED = (short) 0x9D17;
    public static final short SW_TRANSPORT_BLOCKED = (short) 0x9D18;
    public static final short SW_INVALIDATED = (short) 0x9D19;
    public static final short SW_BLANK = (short) 0x9D1C;
    public static final short SW_PERSONALISED = (short) 0x9D1D;
    // issue 4 (reserved)
    public static final short SW_LISTED_BAD_CARD = (short) 0x9D20;
    public static final short SW_ACCOUNT_OUT_OF_RANGE = (short) 0x9D21;
    public static final short SW_DATE_BACKWARDS = (short) 0x9D22;
    public static final short SW_BAD_CARD_LIST_FULL = (short) 0x9D23;
    public static final short SW_NOT_LISTED = (short) 0x9D24;
    public static final short SW_KEYS_TOO_OLD = (short) 0x9D25;
    public static final short SW_PASSBOOK_NOT_FED = (short) 0x9D27;

    // ------------------------------------------------------------------ life cycle, roles, flags
    public static final byte LIFE_BLANK = (byte) 0x01;
    public static final byte LIFE_ACTIVE = (byte) 0x02;
    public static final byte LIFE_INVALIDATED = (byte) 0x7F;

    public static final byte ROLE_NONE = (byte) 0x00;
    public static final byte ROLE_CENTER = (byte) 0x01;
    public static final byte ROLE_REGION = (byte) 0x02;
    public static final byte ROLE_BRANCH = (byte) 0x03;
    public static final byte ROLE_USER = (byte) 0x04;
    public static final byte ROLE_ADMIN = (byte) 0x05;

    public static final byte FLAG_MERCHANT = (byte) 0x01;
    public static final byte FLAG_PRIVATE = (byte) 0x02;

    // ------------------------------------------------------------------ crypto (protocol.md 2)
    public static final byte SUITE_NONE = (byte) 0x00;
    public static final byte SUITE_AES128 = (byte) 0x01;
    public static final byte SUITE_TDES3 = (byte) 0x02;

    public static final short KEYLEN_AES = (short) 16;
    public static final short KEYLEN_TDES = (short) 24;
    public static final short KEYLEN_MAX = (short) 24;
    public static final short BLOCK_AES = (short) 16;
    public static final short BLOCK_TDES = (short) 8;
    public static final short BLOCK_MAX = (short) 16;
    public static final byte RB_AES = (byte) 0x87;
    public static final byte RB_TDES = (byte) 0x1B;
    public static final short MAC_LEN = (short) 8;
    public static final byte PAD_BYTE = (byte) 0x80;

    public static final short KDF_LABEL_LEN = (short) 8;
    // transport KDF label (SP 800-108): ASCII "PURSE TK", common prefix "PURSE " (50 55 52 53 45 20)
    // + the two letters below.
    public static final byte LABEL_TK_0 = (byte) 0x54; // 'T'
    public static final byte LABEL_TK_1 = (byte) 0x4B; // 'K'
    // session key K_S (2.3): the first byte of D = tag | SID | k | RP, one per kind of session
    public static final byte KS_TX = (byte) 0x54; // 'T' transfer
    public static final byte KS_SY = (byte) 0x53; // 'S' sync
    public static final byte KS_AD = (byte) 0x41; // 'A' admin
    /** Length of D = tag | SID | k | RP. */
    public static final short KS_D_LEN = (short) 16;
    /** Input length of every K_INT MAC (balance check, SIG), padded: two AES or four TDES blocks. */
    public static final short CBC_MAC_LEN = (short) 32;

    /** Transport cryptogram prefixes: CC = MAC8(K_MAC, 01|RH|RC), HC = MAC8(K_MAC, 02|RH|RC). */
    public static final byte CRYPTOGRAM_CARD = (byte) 0x01;
    public static final byte CRYPTOGRAM_HOST = (byte) 0x02;
    public static final byte TK_TRIES = (byte) 15;

    // ------------------------------------------------------------------ packets (protocol.md 2.4, 6.3)
    public static final short HDR_LEN = (short) 8;
    public static final short HDR_OFF_TYPE = (short) 0;
    public static final short HDR_OFF_KEYNUM = (short) 1;
    public static final short HDR_OFF_SID = (short) 2;
    public static final short SID_LEN = (short) 6;
    public static final short TID_LEN = (short) 6;
    public static final short RANDOM_LEN = (short) 8;

    public static final byte PT_G1 = (byte) 0x11;
    public static final byte PT_G2 = (byte) 0x12;
    public static final byte PT_I1 = (byte) 0x13;
    public static final byte PT_I2 = (byte) 0x14;
    public static final byte PT_P1 = (byte) 0x41;
    public static final byte PT_P2 = (byte) 0x42;
    public static final byte PT_P3 = (byte) 0x43; // reserved: P3, folded into P2 in protocol 3.0
    public static final byte PT_P4 = (byte) 0x44;
    public static final byte PT_ACK = (byte) 0x45;
    public static final byte PT_NACK = (byte) 0x46;
    // issue 4 (reserved)
    public static final byte PT_S1 = (byte) 0x51;
    public static final byte PT_S2 = (byte) 0x52; // reserved: S2, folded into P5 in protocol 4.0
    public static final byte PT_P5 = (byte) 0x55;
    public static final byte PT_P6 = (byte) 0x56;
    public static final byte PT_SACK = (byte) 0x57;
    public static final byte PT_SNACK = (byte) 0x58;
    public static final byte PT_INVALIDATE = (byte) 0x59;
    public static final byte PT_A1 = (byte) 0x61;
    public static final byte PT_A2 = (byte) 0x62;
    public static final byte PT_A3 = (byte) 0x63; // reserved: A3, folded into A2 in protocol 4.0
    public static final byte PT_A4 = (byte) 0x64;
    public static final byte PT_A5 = (byte) 0x65;
    public static final byte PT_A6 = (byte) 0x66;

    // body CODE byte of P4/ACK/NACK (01 was P3's REQUEST: reserved)
    public static final byte CODE_REQUEST = (byte) 0x01;
    public static final byte CODE_CREDIT = (byte) 0x02;
    public static final byte CODE_ACK = (byte) 0x03;
    public static final byte CODE_NACK = (byte) 0x04;

    // body lengths (before padding)
    public static final short BODY_P1 = (short) 36;
    public static final short BODY_P2 = (short) 44; // the P2 layout (6.3), which P2, P5 and A2 begin with
    public static final short BODY_P2_TX = (short) 48; // a transfer's P2: the P2 layout + AMOUNT requested
    public static final short BODY_SHORT = (short) 31; // P4, ACK, NACK
    public static final short BODY_G1 = (short) 95;
    public static final short BODY_G2 = (short) 20; // = I2
    public static final short BODY_I1_FIXED = (short) 81; // + 4 * key length
    // packet lengths that do not depend on the suite
    public static final short PKT_SHORT = (short) 48; // P4, ACK, NACK
    public static final short PKT_P1_AES = (short) 64;
    public static final short PKT_P1_TDES = (short) 56;
    public static final short PKT_P2_TX_AES = (short) 80;
    public static final short PKT_P2_TX_TDES = (short) 72;
    // responder hello (70, 82 P1 00; a transfer's payee: the tail of SELECT): SUITE | oldest | RP; RP binds the handshake (6.1)
    public static final short HELLO_LEN = (short) 10;
    public static final short HELLO_RP = (short) 2;
    public static final short PAYER_INIT_LEN = (short) 16; // AMOUNT | DATE | SUITE | m | RP
    public static final short ADMIN_BANK_INIT_LEN = (short) 10; // SUITE | m | RP

    // P1 body offsets
    public static final short P1_R1 = (short) 0;
    public static final short P1_APP = (short) 8;
    public static final short P1_NAME = (short) 16;
    public static final short P1_ACCOUNT = (short) 24;
    public static final short P1_ROLE = (short) 32;
    public static final short P1_FLAGS = (short) 33;
    public static final short P1_CURRENCY = (short) 34;
    // P2 body offsets (same as P1 for 0..35) + R2
    public static final short P2_R1 = (short) 0;
    public static final short P2_APP = (short) 8;
    public static final short P2_NAME = (short) 16;
    public static final short P2_ACCOUNT = (short) 24;
    public static final short P2_ROLE = (short) 32;
    public static final short P2_FLAGS = (short) 33;
    public static final short P2_CURRENCY = (short) 34;
    public static final short P2_R2 = (short) 36;
    public static final short P2_AMOUNT = (short) 44; // a transfer's P2 only (BODY_P2_TX)
    // P4/ACK/NACK body offsets
    public static final short PS_RANDOM = (short) 0;
    public static final short PS_APP = (short) 8;
    public static final short PS_CODE = (short) 16;
    public static final short PS_AMOUNT = (short) 17;
    public static final short PS_ACCOUNT = (short) 21;
    public static final short PS_DATE = (short) 29;

    // G1 body offsets
    public static final short G1_SUITE = (short) 0;
    public static final short G1_ISSUER_ID = (short) 1;
    public static final short G1_NAME = (short) 4;
    public static final short G1_CURRENCY = (short) 12;
    public static final short G1_DECIMALS = (short) 14;
    public static final short G1_MIN_TRANS = (short) 15;
    public static final short G1_MAX_TRANS = (short) 19;
    public static final short G1_DATE = (short) 23;
    public static final short G1_BAD_KEY_LIMIT = (short) 25;
    public static final short G1_FIRST_KEYNUM = (short) 26;
    public static final short G1_PIN = (short) 27;
    public static final short G1_TXKEY = (short) 44;
    public static final short G1_CREATION = (short) 61;
    public static final short G1_APPROVAL = (short) 78;
    // G2 / I2 body offsets
    public static final short G2_RESULT = (short) 0;
    public static final short G2_ACCOUNT = (short) 1;
    public static final short G2_ROLE = (short) 9;
    public static final short G2_CURRENT = (short) 10;
    public static final short G2_APP = (short) 11;
    public static final short G2_SUITE = (short) 19;
    // I1 body offsets
    public static final short I1_SUITE = (short) 0;
    public static final short I1_ROLE = (short) 1;
    public static final short I1_FLAGS = (short) 2;
    public static final short I1_ACCOUNT = (short) 3;
    public static final short I1_NAME = (short) 11;
    public static final short I1_CURRENCY = (short) 19;
    public static final short I1_DECIMALS = (short) 21;
    public static final short I1_MIN_TRANS = (short) 22;
    public static final short I1_MAX_TRANS = (short) 26;
    public static final short I1_DATE = (short) 30;
    public static final short I1_APP = (short) 32;
    public static final short I1_BAD_KEY_LIMIT = (short) 40;
    public static final short I1_PIN = (short) 41;
    public static final short I1_TXKEY = (short) 58;
    public static final short I1_ISSUER_ID = (short) 75;
    public static final short I1_CURRENT = (short) 78;
    public static final short I1_KEYS = (short) 79; // 4 keys, then KEY_INFO date (2)
    // ISSUE_REQ (ISSUE_BEGIN data) offsets after TKLEN|TK: add 1 + tkLen
    public static final short IR_ROLE = (short) 0;
    public static final short IR_FLAGS = (short) 1;
    public static final short IR_NAME = (short) 2;
    public static final short IR_MIN_TRANS = (short) 10;
    public static final short IR_MAX_TRANS = (short) 14;
    public static final short IR_DATE = (short) 18;
    public static final short IR_BAD_KEY_LIMIT = (short) 20;
    public static final short IR_PIN = (short) 21;
    public static final short IR_TXKEY = (short) 38;
    public static final short IR_TAIL_LEN = (short) 55;

    // ------------------------------------------------------------------ sizes
    public static final short ACCOUNT_LEN = (short) 8;
    public static final short ISSUER_ID_LEN = (short) 3;
    public static final short NAME_LEN = (short) 8;
    public static final short APP_ID_LEN = (short) 8;
    public static final short CURRENCY_LEN = (short) 2;
    public static final short AMOUNT_LEN = (short) 4;
    public static final short DATE_LEN = (short) 2;
    public static final short RATE_LEN = (short) 4;
    public static final short SECRET_FIELD_LEN = (short) 17;
    public static final byte PIN_MIN = (byte) 4;
    public static final byte PIN_MAX = (byte) 8;
    public static final byte TXKEY_MIN = (byte) 4;
    public static final byte TXKEY_MAX = (byte) 16;
    public static final byte SECRET_MIN = (byte) 8; // creation / approval
    public static final byte SECRET_MAX = (byte) 16;
    public static final byte PIN_TRIES = (byte) 3;
    public static final byte TXKEY_TRIES = (byte) 3;
    public static final byte SECRET_TRIES = (byte) 5;
    public static final byte NAME_MIN_CHAR = (byte) 0x20;
    public static final byte NAME_MAX_CHAR = (byte) 0x7E;
    public static final byte DECIMALS_MAX = (byte) 4;

    public static final short NUM_APPKEYS = (short) 4;
    /** Card holds CURRENT-3 .. CURRENT: holds(n) iff ((CURRENT - n) & 0xFF) <= KEY_WINDOW. */
    public static final short KEY_WINDOW = (short) 3;

    // balance record (17 bytes + 8 check)
    public static final short BAL_AMOUNT = (short) 0;
    public static final short BAL_CURRENCY = (short) 4;
    public static final short BAL_DECIMALS = (short) 6;
    public static final short BAL_INTEREST_DATE = (short) 7;
    public static final short BAL_RATE = (short) 9;
    public static final short BAL_SERIAL = (short) 13;
    public static final short BAL_FIELDS_LEN = (short) 17;
    public static final short BAL_CHECK = (short) 17;
    public static final short BAL_RECORD_LEN = (short) 25;

    // passbook (protocol.md 3.1)
    public static final short PASSBOOK_ENTRIES = (short) 50;
    public static final short PB_ENTRY_LEN = (short) 42;
    public static final short PB_ACCOUNT = (short) 0;
    public static final short PB_NAME = (short) 8;
    public static final short PB_RANDOM = (short) 16;
    public static final short PB_DATE = (short) 24;
    public static final short PB_TYPE = (short) 26;
    public static final short PB_AMOUNT = (short) 27;
    public static final short PB_NEW_BALANCE = (short) 31;
    public static final short PB_TID = (short) 35;
    public static final short PB_KEYNUM = (short) 41;
    public static final short PB_READ_MAX = (short) 6;

    public static final byte PB_TYPE_DEBIT = (byte) 0x01;
    public static final byte PB_TYPE_CREDIT = (byte) 0x02;
    public static final byte PB_TYPE_MINT = (byte) 0x03;
    public static final byte PB_TYPE_INTEREST_IN = (byte) 0x04;
    public static final byte PB_TYPE_INTEREST_OUT = (byte) 0x05;
    public static final byte PB_TYPE_DEBIT_REFUNDED = (byte) 0x06;
    public static final byte PB_TYPE_EXCEPTION = (byte) 0x07;

    // B1 slots, outcomes, exceptions
    public static final byte SLOT_NONE = (byte) 0x00;
    public static final byte SLOT_PENDING = (byte) 0x01; // OUT
    public static final byte SLOT_EXPECTING = (byte) 0x01; // IN
    public static final byte SLOT_SYNC = (byte) 0x02; // OUT/IN state of a sync (issue 4)
    public static final short OUTCOMES = (short) 4;
    public static final byte OUTCOME_ACK = (byte) 0x01;
    public static final byte OUTCOME_NACK = (byte) 0x02;
    public static final short EXCEPTIONS = (short) 4;
    public static final short EXC_ENTRY_LEN = (short) 24;
    public static final short EXC_TID = (short) 0;
    public static final short EXC_AMOUNT = (short) 6;
    public static final short EXC_ACCOUNT = (short) 10;
    public static final short EXC_DATE = (short) 18;
    public static final short EXC_REASON = (short) 20;
    public static final short EXC_PB_INDEX = (short) 21;
    public static final byte EXC_REASON_FORCED = (byte) 0x01;

    // GET_STATUS (68) and GET_PENDING (88) layouts
    public static final short STATUS_LEN = (short) 68;
    public static final short ST_VER_MAJ = (short) 0;
    public static final short ST_VER_MIN = (short) 1;
    public static final short ST_LIFE = (short) 2;
    public static final short ST_SUITE = (short) 3;
    public static final short ST_ROLE = (short) 4;
    public static final short ST_FLAGS = (short) 5;
    public static final short ST_ACCOUNT = (short) 6;
    public static final short ST_NAME = (short) 14;
    public static final short ST_CURRENCY = (short) 22;
    public static final short ST_DECIMALS = (short) 24;
    public static final short ST_BALANCE = (short) 25;
    public static final short ST_MIN_TRANS = (short) 29;
    public static final short ST_MAX_TRANS = (short) 33;
    public static final short ST_CURRENT_KEY = (short) 37;
    public static final short ST_KEY_DATE = (short) 38;
    public static final short ST_BAD_KEY = (short) 40;
    public static final short ST_BAD_KEY_LIMIT = (short) 41;
    public static final short ST_PB_COUNT = (short) 42;
    public static final short ST_PB_CAPACITY = (short) 43;
    public static final short ST_PIN_TRIES = (short) 44;
    public static final short ST_TXKEY_TRIES = (short) 45;
    public static final short ST_OUT_STATE = (short) 46;
    public static final short ST_IN_STATE = (short) 47;
    public static final short ST_EXC_COUNT = (short) 48;
    public static final short ST_APP_ID = (short) 49;
    public static final short ST_INTEREST_DATE = (short) 57;
    public static final short ST_RATE = (short) 59;
    public static final short ST_SERIAL = (short) 63;
    public static final short ST_TK_TRIES = (short) 67;

    public static final short PENDING_LEN = (short) 88;
    public static final short PD_OUT_STATE = (short) 0;
    public static final short PD_OUT_TID = (short) 1;
    public static final short PD_OUT_AMOUNT = (short) 7;
    public static final short PD_OUT_ACCOUNT = (short) 11;
    public static final short PD_OUT_NAME = (short) 19;
    public static final short PD_OUT_DATE = (short) 27;
    public static final short PD_IN_STATE = (short) 29;
    public static final short PD_IN_TID = (short) 30;
    public static final short PD_IN_AMOUNT = (short) 36;
    public static final short PD_IN_ACCOUNT = (short) 40;
    public static final short PD_IN_NAME = (short) 48;
    public static final short PD_IN_DATE = (short) 56;
    public static final short PD_OUTCOME_COUNT = (short) 58;
    public static final short PD_OUTCOMES = (short) 59; // 4 x (TID 6, kind 1)
    public static final short PD_EXC_COUNT = (short) 87;

    // SELECT answer (4.1): STATUS (68, 4.3; its first 4 bytes VER_MAJ VER_MIN LIFE SUITE) | oldest
    // key number | RP: the payee hello of a transfer (6.1), so no GET_STATUS and no 40 follow SELECT
    public static final short SELECT_RESP_LEN = (short) 77;
    public static final short SEL_OLDEST = (short) 68;
    public static final short SEL_RP = (short) 69;
    // a bank card's SELECT answer: then READ_BAD_CARDS' header (COUNT .. CURRENT, 24), for a sync's precheck
    public static final short SEL_BANK_FILES = (short) 77;
    public static final short SELECT_BANK_RESP_LEN = (short) 101;
    // XFER_PAYEE_P1 (44) data: AMOUNT | DATE, then P1 at this offset
    public static final short PAYEE_P1_PKT = (short) 6;

    // transient session states (Purse)
    public static final byte SESSION_IDLE = (byte) 0x00;
    public static final byte SESSION_PAYEE_W_P1 = (byte) 0x01;
    public static final byte SESSION_PAYER_W_P2P3 = (byte) 0x02;
    public static final byte SESSION_TRANSPORT_OPEN = (byte) 0x03; // blank card after AUTH_INIT
    public static final byte SESSION_ISSUER_W_AUTH = (byte) 0x04; // issuer after ISSUE_BEGIN
    public static final byte SESSION_ISSUER_W_CONFIRM = (byte) 0x05; // issuer after ISSUE_AUTH

    // defaults (CLI may override in G1/I1)
    public static final byte DEFAULT_BAD_KEY_LIMIT = (byte) 10;

    // ------------------------------------------------------------------ issue 4 (protocol.md 12)
    public static final byte CODE_INVALIDATE = (byte) 0x05;
    public static final byte CODE_SYNC_CREDIT = (byte) 0x06;
    public static final byte CODE_SACK = (byte) 0x07;
    public static final byte CODE_SNACK = (byte) 0x08;
    public static final byte CODE_ADMIN_OP = (byte) 0x09;
    public static final byte CODE_ADMIN_RESULT = (byte) 0x0A;
    public static final byte CODE_ADMIN_BATCH = (byte) 0x0B;
    public static final byte CODE_ADMIN_BATCH_RESULT = (byte) 0x0C;
    public static final byte SESSION_SYNC_CARD_W_S1 = (byte) 0x04;
    public static final byte SESSION_SYNC_BANK_W_P5 = (byte) 0x05;
    public static final byte SESSION_ADMIN_W_A1 = (byte) 0x06;
    public static final byte SESSION_BANK_W_A2 = (byte) 0x07;
    public static final byte SESSION_ADMIN_W_A4 = (byte) 0x08;
    public static final byte SESSION_BANK_W_A5 = (byte) 0x09;
    public static final byte SESSION_ADMIN_W_A6 = (byte) 0x0A;
    public static final byte SESSION_SYNC_CARD_W_P5 = (byte) 0x0B; // card after 74 P1 01: only 74 P1 02 follows
    public static final byte SYNC_P1_PLAIN = (byte) 0x00;
    public static final byte SYNC_P1_UNBLOCK = (byte) 0x01;
    // SYNC_CARD_S1 (74) P1: the whole step, or its two halves (R2 and the digest, then P5 and IN = SYNC)
    public static final byte S1_WHOLE = (byte) 0x00;
    public static final byte S1_DIGEST = (byte) 0x01;
    public static final byte S1_P5 = (byte) 0x02;
    public static final byte ADMIN_P1_ADMIN = (byte) 0x00;
    public static final byte ADMIN_P1_BANK = (byte) 0x01;
    public static final byte PRIVACY_OFF = (byte) 0x00;
    public static final byte PRIVACY_ON = (byte) 0x01;
    public static final byte OP_BAD_CARD_ADD = (byte) 0x01;
    public static final byte OP_BAD_CARD_REMOVE = (byte) 0x02;
    public static final byte OP_SET_RATE = (byte) 0x03;
    public static final byte OP_SET_RANGE = (byte) 0x04;
    public static final byte RESULT_DONE = (byte) 0x00;
    public static final byte RESULT_NO_CHANGE = (byte) 0x01;
    public static final byte P6F_CLEAR = (byte) 0x01;
    public static final byte P6F_UNBLOCK = (byte) 0x02;
    public static final byte P6F_DEFERRED = (byte) 0x04;
    public static final byte DIGEST_TAG = (byte) 0x7C;
    public static final byte SIG_TAG = (byte) 0x50;
    public static final byte SIG_NIBBLE = (byte) 0xF0;
    public static final short KEY_ARCHIVE = (short) 4;
    public static final short SYNC_KEYS_MAX = (short) 6;
    public static final short BAD_CARD_MAX = (short) 1200;
    public static final short BC_ENTRY_LEN = (short) 5;
    public static final short BC_ACC_OFF = (short) 4;
    public static final short BC_ACC_LEN = (short) 4;
    public static final short BC_KEYNUM = (short) 4;
    public static final short BC_PAGE = (short) 40;
    public static final short BC_PAGES = (short) 30;
    public static final short BAD_CARD_EXPIRY = (short) 7;
    public static final short RANGE_LEN = (short) 16;
    public static final short RBC_COUNT = (short) 0;
    public static final short RBC_RATE = (short) 2;
    public static final short RBC_LOW = (short) 6;
    public static final short RBC_HIGH = (short) 14;
    public static final short RBC_ARCH = (short) 22;
    public static final short RBC_CURRENT = (short) 23;
    public static final short RBC_HEADER_LEN = (short) 24;
    public static final short ADVANCE_DATA_LEN = (short) 7;
    public static final short ADV_DATE = (short) 0;
    public static final short ADV_RATE_FLAG = (short) 2;
    public static final short ADV_RATE = (short) 3;
    public static final short ADVANCE_RESP_LEN = (short) 3;
    public static final short SYNC_INIT_CARD_LEN = (short) 2;
    public static final short SYNC_INIT_BANK_LEN = (short) 12; // SUITE | m | RP | DATE
    public static final short UNBLOCK_DATA_LEN = (short) 17;
    // P5 (12.5.1): the P2 layout (identity, R2 at 36), then the card's commitment at 44
    public static final short BODY_P5 = (short) 74;
    public static final short P5_BALANCE = (short) 44;
    public static final short P5_CURRENT = (short) 61;
    public static final short P5_PB_COUNT = (short) 62;
    public static final short P5_EXC_COUNT = (short) 63;
    public static final short P5_DIGEST = (short) 64;
    public static final short P5_BAD_KEY = (short) 72;
    public static final short P5_HOLDER = (short) 73; // 01: the card's PIN is validated (FIG. 5 block 502)
    public static final short P5_COMMIT_LEN = (short) 30; // P5_BALANCE .. the end
    public static final byte HOLDER_PROVEN = (byte) 0x01;
    public static final short PKT_P5 = (short) 96; // both suites
    public static final short BODY_P6_FIXED = (short) 50;
    public static final short P6_R2 = (short) 0;
    public static final short P6_APP = (short) 8;
    public static final short P6_CODE = (short) 16;
    public static final short P6_AMOUNT = (short) 17;
    public static final short P6_DATE = (short) 21;
    public static final short P6_RATE = (short) 25;
    public static final short P6_FLAGS = (short) 29;
    public static final short P6_CARD_ACCOUNT = (short) 30;
    public static final short P6_BANK_ACCOUNT = (short) 38;
    public static final short P6_KEY_DATE = (short) 46;
    public static final short P6_NK = (short) 48;
    public static final short P6_FIRST = (short) 49;
    public static final short P6_KEYS = (short) 50;
    public static final short PKT_P6_MAX = (short) 216;
    public static final short BODY_INVALIDATE = (short) 33;
    public static final short INV_R2 = (short) 0;
    public static final short INV_APP = (short) 8;
    public static final short INV_CODE = (short) 16;
    public static final short INV_CARD_ACCOUNT = (short) 17;
    public static final short INV_BANK_ACCOUNT = (short) 25;
    public static final short PKT_INVALIDATE_AES = (short) 64;
    public static final short PKT_INVALIDATE_TDES = (short) 56;
    public static final short ADMIN_REQ_LEN = (short) 19;
    public static final short AREQ_OP = (short) 0;
    public static final short AREQ_PARAMS = (short) 1;
    public static final short AREQ_DATE = (short) 17;
    public static final short ADMIN_PARAMS_LEN = (short) 16;
    // A2 (12.8): the P2 layout (admin identity, R2 at 36), then the request at 44
    public static final short BODY_A2 = (short) 64;
    public static final short A2_CODE = (short) 44;
    public static final short A2_OP = (short) 45;
    public static final short A2_PARAMS = (short) 46;
    public static final short A2_DATE = (short) 62;
    public static final short BODY_A4 = (short) 46;
    public static final short A4_R1 = (short) 0;
    public static final short A4_APP = (short) 8;
    public static final short A4_CODE = (short) 16;
    public static final short A4_OP = (short) 17;
    public static final short A4_RESULT = (short) 18;
    public static final short A4_COUNT = (short) 19;
    public static final short A4_PARAMS = (short) 21;
    public static final short A4_ACCOUNT = (short) 37;
    public static final short A4_KEYNUM = (short) 45;
    public static final short PKT_A4 = (short) 64;
    public static final short PKT_A2_AES = (short) 96;
    public static final short PKT_A2_TDES = (short) 88;
    public static final short ADMIN_ACK_RESP_LEN = (short) 11;
    // batched BAD_CARD_ADD (protocol.md 12.8 "Batches"): 84 / 86 / 88 with P1 01 after an ADD op
    public static final byte ADMIN_P1_MORE = (byte) 0x01;
    public static final short BATCH_MAX = (short) 46;
    public static final short BATCH_BITS_LEN = (short) 6;
    public static final short BATCH_LOW_LEN = (short) 4;
    public static final byte BATCH_SEQ_LAST = (byte) 0xFF; // the last SEQ of a session: SEQ never wraps
    public static final short A5_R2 = (short) 0;
    public static final short A5_APP = (short) 8;
    public static final short A5_CODE = (short) 16;
    public static final short A5_SEQ = (short) 17;
    public static final short A5_N = (short) 18;
    public static final short A5_PREFIX = (short) 19;
    public static final short A5_LOWS = (short) 23;
    public static final short A6_R1 = (short) 0;
    public static final short A6_APP = (short) 8;
    public static final short A6_CODE = (short) 16;
    public static final short A6_SEQ = (short) 17;
    public static final short A6_N = (short) 18;
    public static final short A6_COUNT = (short) 19;
    public static final short A6_BITS = (short) 21;
    public static final short A6_ACCOUNT = (short) 27;
    public static final short A6_KEYNUM = (short) 35;
    public static final short BODY_A6 = (short) 36;
    public static final short BATCH_ACK_LEN = (short) 17;
}
