//! Protocol constants (docs/protocol.md, Appendix A), mirrored one for one from
//! `applet/src/org/purse/applet/Constants.java` (same names, unsigned values), plus typed enums
//! for the values the host interprets (INS, SW, ROLE, LIFE, SUITE, packet and passbook types),
//! each with an `Unknown`/`Other` fallback so a newer card never crashes an older host.
//! `tests/constants_agree.rs` checks that every constant here equals the Java one and that
//! neither side has a constant the other lacks.
#![allow(missing_docs)]

use serde::Serialize;

macro_rules! constants {
    ($( $name:ident : $ty:ty = $val:expr; )*) => {
        $( pub const $name: $ty = $val; )*
        /// Every constant of Constants.java as (name, unsigned value).
        pub const ALL: &[(&str, u32)] = &[ $( (stringify!($name), $val as u32) ),* ];
    };
}

constants! {
    VERSION_MAJOR: u8 = 0x07;
    VERSION_MINOR: u8 = 0x00;
    CLA_ISO: u8 = 0x00;
    CLA_PURSE: u8 = 0x80;
    INS_SELECT: u8 = 0xA4;
    INS_AUTH_INIT: u8 = 0x10;
    INS_AUTH_FINISH: u8 = 0x12;
    INS_ISSUE_BEGIN: u8 = 0x14;
    INS_ISSUE_AUTH: u8 = 0x16;
    INS_ISSUE_CONFIRM: u8 = 0x18;
    INS_MINT: u8 = 0x1A;
    INS_VERIFY: u8 = 0x20;
    INS_CHANGE_REF: u8 = 0x24;
    INS_GET_STATUS: u8 = 0x30;
    INS_GET_PENDING: u8 = 0x32;
    INS_READ_PASSBOOK: u8 = 0x34;
    INS_READ_EXCEPTIONS: u8 = 0x36;
    // 40 reserved, never used (was XFER_PAYEE_INIT: SELECT answers its RP, 44 runs its checks)
    INS_XFER_PAYER_INIT: u8 = 0x42;
    INS_XFER_PAYEE_P1: u8 = 0x44;
    INS_XFER_PAYER_P2P3: u8 = 0x46;
    INS_XFER_PAYEE_P4: u8 = 0x48;
    INS_XFER_PAYER_ACK: u8 = 0x4A;
    INS_XFER_ABORT: u8 = 0x4C;
    INS_RESUME_GET_P4: u8 = 0x50;
    INS_RESUME_GET_OUTCOME: u8 = 0x52;
    INS_PENDING_TO_EXCEPTION: u8 = 0x54;
    INS_SYNC_CARD_INIT: u8 = 0x70;
    INS_SYNC_BANK_INIT: u8 = 0x72;
    INS_SYNC_CARD_S1: u8 = 0x74;
    INS_SYNC_BANK_P5: u8 = 0x76;
    INS_SYNC_CARD_P6: u8 = 0x78;
    INS_SYNC_BANK_ACK: u8 = 0x7A;
    INS_UNBLOCK_PIN: u8 = 0x7E;
    INS_CENTER_ADVANCE: u8 = 0x80;
    INS_ADMIN_INIT: u8 = 0x82;
    INS_ADMIN_OP: u8 = 0x84;
    INS_ADMIN_APPLY: u8 = 0x86;
    INS_ADMIN_ACK: u8 = 0x88;
    INS_READ_BAD_CARDS: u8 = 0x8A;
    INS_SET_PRIVACY: u8 = 0x8C;
    ABORT_SESSION: u8 = 0x00;
    ABORT_EXPECTED: u8 = 0x01;
    REF_PIN: u8 = 0x01;
    REF_TXKEY: u8 = 0x02;
    REF_CREATION: u8 = 0x03;
    REF_APPROVAL: u8 = 0x04;
    SW_OK: u16 = 0x9000;
    SW_WRONG_LENGTH: u16 = 0x6700;
    SW_WRONG_DATA: u16 = 0x6A80;
    SW_FUNC_NOT_SUPPORTED: u16 = 0x6A81;
    SW_RECORD_NOT_FOUND: u16 = 0x6A83;
    SW_WRONG_P1P2: u16 = 0x6A86;
    SW_INS_NOT_SUPPORTED: u16 = 0x6D00;
    SW_CLA_NOT_SUPPORTED: u16 = 0x6E00;
    SW_SECURITY_STATUS: u16 = 0x6982;
    SW_AUTH_BLOCKED: u16 = 0x6983;
    SW_CONDITIONS: u16 = 0x6985;
    SW_VERIFY_FAILED: u16 = 0x63C0;
    SW_LOCKED: u16 = 0x9D01;
    SW_NO_COMMON_KEYS: u16 = 0x9D02;
    SW_BAD_PACKET: u16 = 0x9D03;
    SW_PAIR_NOT_ALLOWED: u16 = 0x9D04;
    SW_INSUFFICIENT_FUNDS: u16 = 0x9D05;
    SW_OVERFLOW: u16 = 0x9D06;
    SW_AMOUNT_MISMATCH: u16 = 0x9D07;
    SW_PASSBOOK_FULL: u16 = 0x9D08;
    SW_PENDING_OUT: u16 = 0x9D09;
    SW_PAYEE_EXPECTING: u16 = 0x9D0A;
    SW_UNKNOWN_TRANSFER: u16 = 0x9D0B;
    SW_ALREADY_CREDITED: u16 = 0x9D0C;
    SW_CURRENCY_MISMATCH: u16 = 0x9D0D;
    SW_BAD_NAME: u16 = 0x9D0E;
    SW_SAME_CARD: u16 = 0x9D0F;
    SW_EXCEPTION_LOG_FULL: u16 = 0x9D10;
    SW_INTEGRITY: u16 = 0x9D11;
    SW_WRONG_ROLE: u16 = 0x9D12;
    SW_PIN_REQUIRED: u16 = 0x9D13;
    SW_TXKEY_REQUIRED: u16 = 0x9D14;
    SW_APPROVAL_REQUIRED: u16 = 0x9D15;
    SW_CREATION_REQUIRED: u16 = 0x9D16;
    SW_ACCOUNTS_EXHAUSTED: u16 = 0x9D17;
    SW_TRANSPORT_BLOCKED: u16 = 0x9D18;
    SW_INVALIDATED: u16 = 0x9D19;
    SW_BLANK: u16 = 0x9D1C;
    SW_PERSONALISED: u16 = 0x9D1D;
    SW_LISTED_BAD_CARD: u16 = 0x9D20;
    SW_ACCOUNT_OUT_OF_RANGE: u16 = 0x9D21;
    SW_DATE_BACKWARDS: u16 = 0x9D22;
    SW_BAD_CARD_LIST_FULL: u16 = 0x9D23;
    SW_NOT_LISTED: u16 = 0x9D24;
    SW_KEYS_TOO_OLD: u16 = 0x9D25;
    SW_PASSBOOK_NOT_FED: u16 = 0x9D27;
    LIFE_BLANK: u8 = 0x01;
    LIFE_ACTIVE: u8 = 0x02;
    LIFE_INVALIDATED: u8 = 0x7F;
    ROLE_NONE: u8 = 0x00;
    ROLE_CENTER: u8 = 0x01;
    ROLE_REGION: u8 = 0x02;
    ROLE_BRANCH: u8 = 0x03;
    ROLE_USER: u8 = 0x04;
    ROLE_ADMIN: u8 = 0x05;
    FLAG_MERCHANT: u8 = 0x01;
    FLAG_PRIVATE: u8 = 0x02;
    SUITE_NONE: u8 = 0x00;
    SUITE_AES128: u8 = 0x01;
    SUITE_TDES3: u8 = 0x02;
    KEYLEN_AES: u16 = 16;
    KEYLEN_TDES: u16 = 24;
    KEYLEN_MAX: u16 = 24;
    BLOCK_AES: u16 = 16;
    BLOCK_TDES: u16 = 8;
    BLOCK_MAX: u16 = 16;
    RB_AES: u8 = 0x87;
    RB_TDES: u8 = 0x1B;
    MAC_LEN: u16 = 8;
    PAD_BYTE: u8 = 0x80;
    KDF_LABEL_LEN: u16 = 8;
    LABEL_TK_0: u8 = 0x54;
    LABEL_TK_1: u8 = 0x4B;
    KS_TX: u8 = 0x54;
    KS_SY: u8 = 0x53;
    KS_AD: u8 = 0x41;
    KS_D_LEN: u16 = 16;
    CBC_MAC_LEN: u16 = 32;
    CRYPTOGRAM_CARD: u8 = 0x01;
    CRYPTOGRAM_HOST: u8 = 0x02;
    TK_TRIES: u8 = 15;
    HDR_LEN: u16 = 8;
    HDR_OFF_TYPE: u16 = 0;
    HDR_OFF_KEYNUM: u16 = 1;
    HDR_OFF_SID: u16 = 2;
    SID_LEN: u16 = 6;
    TID_LEN: u16 = 6;
    RANDOM_LEN: u16 = 8;
    PT_G1: u8 = 0x11;
    PT_G2: u8 = 0x12;
    PT_I1: u8 = 0x13;
    PT_I2: u8 = 0x14;
    PT_P1: u8 = 0x41;
    PT_P2: u8 = 0x42;
    PT_P3: u8 = 0x43;
    PT_P4: u8 = 0x44;
    PT_ACK: u8 = 0x45;
    PT_NACK: u8 = 0x46;
    PT_S1: u8 = 0x51;
    PT_S2: u8 = 0x52;
    PT_P5: u8 = 0x55;
    PT_P6: u8 = 0x56;
    PT_SACK: u8 = 0x57;
    PT_SNACK: u8 = 0x58;
    PT_INVALIDATE: u8 = 0x59;
    PT_A1: u8 = 0x61;
    PT_A2: u8 = 0x62;
    PT_A3: u8 = 0x63;
    PT_A4: u8 = 0x64;
    PT_A5: u8 = 0x65;
    PT_A6: u8 = 0x66;
    CODE_REQUEST: u8 = 0x01;
    CODE_CREDIT: u8 = 0x02;
    CODE_ACK: u8 = 0x03;
    CODE_NACK: u8 = 0x04;
    BODY_P1: u16 = 36;
    BODY_P2: u16 = 44;
    BODY_P2_TX: u16 = 48;
    BODY_SHORT: u16 = 31;
    BODY_G1: u16 = 95;
    BODY_G2: u16 = 20;
    BODY_I1_FIXED: u16 = 81;
    PKT_SHORT: u16 = 48;
    PKT_P1_AES: u16 = 64;
    PKT_P1_TDES: u16 = 56;
    PKT_P2_TX_AES: u16 = 80;
    PKT_P2_TX_TDES: u16 = 72;
    HELLO_LEN: u16 = 10;
    HELLO_RP: u16 = 2;
    PAYER_INIT_LEN: u16 = 16;
    ADMIN_BANK_INIT_LEN: u16 = 10;
    P1_R1: u16 = 0;
    P1_APP: u16 = 8;
    P1_NAME: u16 = 16;
    P1_ACCOUNT: u16 = 24;
    P1_ROLE: u16 = 32;
    P1_FLAGS: u16 = 33;
    P1_CURRENCY: u16 = 34;
    P2_R1: u16 = 0;
    P2_APP: u16 = 8;
    P2_NAME: u16 = 16;
    P2_ACCOUNT: u16 = 24;
    P2_ROLE: u16 = 32;
    P2_FLAGS: u16 = 33;
    P2_CURRENCY: u16 = 34;
    P2_R2: u16 = 36;
    P2_AMOUNT: u16 = 44;
    PS_RANDOM: u16 = 0;
    PS_APP: u16 = 8;
    PS_CODE: u16 = 16;
    PS_AMOUNT: u16 = 17;
    PS_ACCOUNT: u16 = 21;
    PS_DATE: u16 = 29;
    G1_SUITE: u16 = 0;
    G1_ISSUER_ID: u16 = 1;
    G1_NAME: u16 = 4;
    G1_CURRENCY: u16 = 12;
    G1_DECIMALS: u16 = 14;
    G1_MIN_TRANS: u16 = 15;
    G1_MAX_TRANS: u16 = 19;
    G1_DATE: u16 = 23;
    G1_BAD_KEY_LIMIT: u16 = 25;
    G1_FIRST_KEYNUM: u16 = 26;
    G1_PIN: u16 = 27;
    G1_TXKEY: u16 = 44;
    G1_CREATION: u16 = 61;
    G1_APPROVAL: u16 = 78;
    G2_RESULT: u16 = 0;
    G2_ACCOUNT: u16 = 1;
    G2_ROLE: u16 = 9;
    G2_CURRENT: u16 = 10;
    G2_APP: u16 = 11;
    G2_SUITE: u16 = 19;
    I1_SUITE: u16 = 0;
    I1_ROLE: u16 = 1;
    I1_FLAGS: u16 = 2;
    I1_ACCOUNT: u16 = 3;
    I1_NAME: u16 = 11;
    I1_CURRENCY: u16 = 19;
    I1_DECIMALS: u16 = 21;
    I1_MIN_TRANS: u16 = 22;
    I1_MAX_TRANS: u16 = 26;
    I1_DATE: u16 = 30;
    I1_APP: u16 = 32;
    I1_BAD_KEY_LIMIT: u16 = 40;
    I1_PIN: u16 = 41;
    I1_TXKEY: u16 = 58;
    I1_ISSUER_ID: u16 = 75;
    I1_CURRENT: u16 = 78;
    I1_KEYS: u16 = 79;
    IR_ROLE: u16 = 0;
    IR_FLAGS: u16 = 1;
    IR_NAME: u16 = 2;
    IR_MIN_TRANS: u16 = 10;
    IR_MAX_TRANS: u16 = 14;
    IR_DATE: u16 = 18;
    IR_BAD_KEY_LIMIT: u16 = 20;
    IR_PIN: u16 = 21;
    IR_TXKEY: u16 = 38;
    IR_TAIL_LEN: u16 = 55;
    ACCOUNT_LEN: u16 = 8;
    ISSUER_ID_LEN: u16 = 3;
    NAME_LEN: u16 = 8;
    APP_ID_LEN: u16 = 8;
    CURRENCY_LEN: u16 = 2;
    AMOUNT_LEN: u16 = 4;
    DATE_LEN: u16 = 2;
    RATE_LEN: u16 = 4;
    SECRET_FIELD_LEN: u16 = 17;
    PIN_MIN: u8 = 4;
    PIN_MAX: u8 = 8;
    TXKEY_MIN: u8 = 4;
    TXKEY_MAX: u8 = 16;
    SECRET_MIN: u8 = 8;
    SECRET_MAX: u8 = 16;
    PIN_TRIES: u8 = 3;
    TXKEY_TRIES: u8 = 3;
    SECRET_TRIES: u8 = 5;
    NAME_MIN_CHAR: u8 = 0x20;
    NAME_MAX_CHAR: u8 = 0x7E;
    DECIMALS_MAX: u8 = 4;
    NUM_APPKEYS: u16 = 4;
    KEY_WINDOW: u16 = 3;
    BAL_AMOUNT: u16 = 0;
    BAL_CURRENCY: u16 = 4;
    BAL_DECIMALS: u16 = 6;
    BAL_INTEREST_DATE: u16 = 7;
    BAL_RATE: u16 = 9;
    BAL_SERIAL: u16 = 13;
    BAL_FIELDS_LEN: u16 = 17;
    BAL_CHECK: u16 = 17;
    BAL_RECORD_LEN: u16 = 25;
    PASSBOOK_ENTRIES: u16 = 50;
    PB_ENTRY_LEN: u16 = 42;
    PB_ACCOUNT: u16 = 0;
    PB_NAME: u16 = 8;
    PB_RANDOM: u16 = 16;
    PB_DATE: u16 = 24;
    PB_TYPE: u16 = 26;
    PB_AMOUNT: u16 = 27;
    PB_NEW_BALANCE: u16 = 31;
    PB_TID: u16 = 35;
    PB_KEYNUM: u16 = 41;
    PB_READ_MAX: u16 = 6;
    PB_TYPE_DEBIT: u8 = 0x01;
    PB_TYPE_CREDIT: u8 = 0x02;
    PB_TYPE_MINT: u8 = 0x03;
    PB_TYPE_INTEREST_IN: u8 = 0x04;
    PB_TYPE_INTEREST_OUT: u8 = 0x05;
    PB_TYPE_DEBIT_REFUNDED: u8 = 0x06;
    PB_TYPE_EXCEPTION: u8 = 0x07;
    SLOT_NONE: u8 = 0x00;
    SLOT_PENDING: u8 = 0x01;
    SLOT_EXPECTING: u8 = 0x01;
    SLOT_SYNC: u8 = 0x02;
    OUTCOMES: u16 = 4;
    OUTCOME_ACK: u8 = 0x01;
    OUTCOME_NACK: u8 = 0x02;
    EXCEPTIONS: u16 = 4;
    EXC_ENTRY_LEN: u16 = 24;
    EXC_TID: u16 = 0;
    EXC_AMOUNT: u16 = 6;
    EXC_ACCOUNT: u16 = 10;
    EXC_DATE: u16 = 18;
    EXC_REASON: u16 = 20;
    EXC_PB_INDEX: u16 = 21;
    EXC_REASON_FORCED: u8 = 0x01;
    STATUS_LEN: u16 = 68;
    ST_VER_MAJ: u16 = 0;
    ST_VER_MIN: u16 = 1;
    ST_LIFE: u16 = 2;
    ST_SUITE: u16 = 3;
    ST_ROLE: u16 = 4;
    ST_FLAGS: u16 = 5;
    ST_ACCOUNT: u16 = 6;
    ST_NAME: u16 = 14;
    ST_CURRENCY: u16 = 22;
    ST_DECIMALS: u16 = 24;
    ST_BALANCE: u16 = 25;
    ST_MIN_TRANS: u16 = 29;
    ST_MAX_TRANS: u16 = 33;
    ST_CURRENT_KEY: u16 = 37;
    ST_KEY_DATE: u16 = 38;
    ST_BAD_KEY: u16 = 40;
    ST_BAD_KEY_LIMIT: u16 = 41;
    ST_PB_COUNT: u16 = 42;
    ST_PB_CAPACITY: u16 = 43;
    ST_PIN_TRIES: u16 = 44;
    ST_TXKEY_TRIES: u16 = 45;
    ST_OUT_STATE: u16 = 46;
    ST_IN_STATE: u16 = 47;
    ST_EXC_COUNT: u16 = 48;
    ST_APP_ID: u16 = 49;
    ST_INTEREST_DATE: u16 = 57;
    ST_RATE: u16 = 59;
    ST_SERIAL: u16 = 63;
    ST_TK_TRIES: u16 = 67;
    PENDING_LEN: u16 = 88;
    PD_OUT_STATE: u16 = 0;
    PD_OUT_TID: u16 = 1;
    PD_OUT_AMOUNT: u16 = 7;
    PD_OUT_ACCOUNT: u16 = 11;
    PD_OUT_NAME: u16 = 19;
    PD_OUT_DATE: u16 = 27;
    PD_IN_STATE: u16 = 29;
    PD_IN_TID: u16 = 30;
    PD_IN_AMOUNT: u16 = 36;
    PD_IN_ACCOUNT: u16 = 40;
    PD_IN_NAME: u16 = 48;
    PD_IN_DATE: u16 = 56;
    PD_OUTCOME_COUNT: u16 = 58;
    PD_OUTCOMES: u16 = 59;
    PD_EXC_COUNT: u16 = 87;
    SELECT_RESP_LEN: u16 = 77;
    SEL_OLDEST: u16 = 68;
    SEL_RP: u16 = 69;
    SEL_BANK_FILES: u16 = 77;
    SELECT_BANK_RESP_LEN: u16 = 101;
    PAYEE_P1_PKT: u16 = 6;
    SESSION_IDLE: u8 = 0x00;
    SESSION_PAYEE_W_P1: u8 = 0x01;
    SESSION_PAYER_W_P2P3: u8 = 0x02;
    SESSION_TRANSPORT_OPEN: u8 = 0x03;
    SESSION_ISSUER_W_AUTH: u8 = 0x04;
    SESSION_ISSUER_W_CONFIRM: u8 = 0x05;
    DEFAULT_BAD_KEY_LIMIT: u8 = 10;
    // issue 4 (protocol.md 12)
    CODE_INVALIDATE: u8 = 0x05;
    CODE_SYNC_CREDIT: u8 = 0x06;
    CODE_SACK: u8 = 0x07;
    CODE_SNACK: u8 = 0x08;
    CODE_ADMIN_OP: u8 = 0x09;
    CODE_ADMIN_RESULT: u8 = 0x0A;
    CODE_ADMIN_BATCH: u8 = 0x0B;
    CODE_ADMIN_BATCH_RESULT: u8 = 0x0C;
    SESSION_SYNC_CARD_W_S1: u8 = 0x04;
    SESSION_SYNC_BANK_W_P5: u8 = 0x05;
    SESSION_ADMIN_W_A1: u8 = 0x06;
    SESSION_BANK_W_A2: u8 = 0x07;
    SESSION_ADMIN_W_A4: u8 = 0x08;
    SESSION_BANK_W_A5: u8 = 0x09;
    SESSION_ADMIN_W_A6: u8 = 0x0A;
    SESSION_SYNC_CARD_W_P5: u8 = 0x0B;
    SYNC_P1_PLAIN: u8 = 0x00;
    SYNC_P1_UNBLOCK: u8 = 0x01;
    S1_WHOLE: u8 = 0x00;
    S1_DIGEST: u8 = 0x01;
    S1_P5: u8 = 0x02;
    ADMIN_P1_ADMIN: u8 = 0x00;
    ADMIN_P1_BANK: u8 = 0x01;
    PRIVACY_OFF: u8 = 0x00;
    PRIVACY_ON: u8 = 0x01;
    OP_BAD_CARD_ADD: u8 = 0x01;
    OP_BAD_CARD_REMOVE: u8 = 0x02;
    OP_SET_RATE: u8 = 0x03;
    OP_SET_RANGE: u8 = 0x04;
    RESULT_DONE: u8 = 0x00;
    RESULT_NO_CHANGE: u8 = 0x01;
    P6F_CLEAR: u8 = 0x01;
    P6F_UNBLOCK: u8 = 0x02;
    P6F_DEFERRED: u8 = 0x04;
    DIGEST_TAG: u8 = 0x7C;
    SIG_TAG: u8 = 0x50;
    SIG_NIBBLE: u8 = 0xF0;
    KEY_ARCHIVE: u16 = 4;
    SYNC_KEYS_MAX: u16 = 6;
    BAD_CARD_MAX: u16 = 1200;
    BC_ENTRY_LEN: u16 = 5;
    BC_ACC_OFF: u16 = 4;
    BC_ACC_LEN: u16 = 4;
    BC_KEYNUM: u16 = 4;
    BC_PAGE: u16 = 40;
    BC_PAGES: u16 = 30;
    BAD_CARD_EXPIRY: u16 = 7;
    RANGE_LEN: u16 = 16;
    RBC_COUNT: u16 = 0;
    RBC_RATE: u16 = 2;
    RBC_LOW: u16 = 6;
    RBC_HIGH: u16 = 14;
    RBC_ARCH: u16 = 22;
    RBC_CURRENT: u16 = 23;
    RBC_HEADER_LEN: u16 = 24;
    ADVANCE_DATA_LEN: u16 = 7;
    ADV_DATE: u16 = 0;
    ADV_RATE_FLAG: u16 = 2;
    ADV_RATE: u16 = 3;
    ADVANCE_RESP_LEN: u16 = 3;
    SYNC_INIT_CARD_LEN: u16 = 2;
    SYNC_INIT_BANK_LEN: u16 = 12;
    UNBLOCK_DATA_LEN: u16 = 17;
    BODY_P5: u16 = 74;
    P5_BALANCE: u16 = 44;
    P5_CURRENT: u16 = 61;
    P5_PB_COUNT: u16 = 62;
    P5_EXC_COUNT: u16 = 63;
    P5_DIGEST: u16 = 64;
    P5_BAD_KEY: u16 = 72;
    P5_HOLDER: u16 = 73;
    P5_COMMIT_LEN: u16 = 30;
    HOLDER_PROVEN: u8 = 0x01;
    PKT_P5: u16 = 96;
    BODY_P6_FIXED: u16 = 50;
    P6_R2: u16 = 0;
    P6_APP: u16 = 8;
    P6_CODE: u16 = 16;
    P6_AMOUNT: u16 = 17;
    P6_DATE: u16 = 21;
    P6_RATE: u16 = 25;
    P6_FLAGS: u16 = 29;
    P6_CARD_ACCOUNT: u16 = 30;
    P6_BANK_ACCOUNT: u16 = 38;
    P6_KEY_DATE: u16 = 46;
    P6_NK: u16 = 48;
    P6_FIRST: u16 = 49;
    P6_KEYS: u16 = 50;
    PKT_P6_MAX: u16 = 216;
    BODY_INVALIDATE: u16 = 33;
    INV_R2: u16 = 0;
    INV_APP: u16 = 8;
    INV_CODE: u16 = 16;
    INV_CARD_ACCOUNT: u16 = 17;
    INV_BANK_ACCOUNT: u16 = 25;
    PKT_INVALIDATE_AES: u16 = 64;
    PKT_INVALIDATE_TDES: u16 = 56;
    ADMIN_REQ_LEN: u16 = 19;
    AREQ_OP: u16 = 0;
    AREQ_PARAMS: u16 = 1;
    AREQ_DATE: u16 = 17;
    ADMIN_PARAMS_LEN: u16 = 16;
    BODY_A2: u16 = 64;
    A2_CODE: u16 = 44;
    A2_OP: u16 = 45;
    A2_PARAMS: u16 = 46;
    A2_DATE: u16 = 62;
    BODY_A4: u16 = 46;
    A4_R1: u16 = 0;
    A4_APP: u16 = 8;
    A4_CODE: u16 = 16;
    A4_OP: u16 = 17;
    A4_RESULT: u16 = 18;
    A4_COUNT: u16 = 19;
    A4_PARAMS: u16 = 21;
    A4_ACCOUNT: u16 = 37;
    A4_KEYNUM: u16 = 45;
    PKT_A4: u16 = 64;
    PKT_A2_AES: u16 = 96;
    PKT_A2_TDES: u16 = 88;
    ADMIN_ACK_RESP_LEN: u16 = 11;
    ADMIN_P1_MORE: u8 = 0x01;
    BATCH_MAX: u16 = 46;
    BATCH_BITS_LEN: u16 = 6;
    BATCH_LOW_LEN: u16 = 4;
    BATCH_SEQ_LAST: u8 = 0xFF;
    A5_R2: u16 = 0;
    A5_APP: u16 = 8;
    A5_CODE: u16 = 16;
    A5_SEQ: u16 = 17;
    A5_N: u16 = 18;
    A5_PREFIX: u16 = 19;
    A5_LOWS: u16 = 23;
    A6_R1: u16 = 0;
    A6_APP: u16 = 8;
    A6_CODE: u16 = 16;
    A6_SEQ: u16 = 17;
    A6_N: u16 = 18;
    A6_COUNT: u16 = 19;
    A6_BITS: u16 = 21;
    A6_ACCOUNT: u16 = 27;
    A6_KEYNUM: u16 = 35;
    BODY_A6: u16 = 36;
    BATCH_ACK_LEN: u16 = 17;
}

/// Application identifier of the purse applet (docs/architecture.md).
pub const PURSE_AID: [u8; 7] = [0xF0, 0x70, 0x75, 0x72, 0x73, 0x65, 0x01];
/// Development transport keys (protocol.md 5.1).
pub const DEV_TK_AES: &[u8; 16] = b"purse-dev-transp";
pub const DEV_TK_TDES: &[u8; 24] = b"purse-dev-transport-3des";

/// Defines a `u8`/`u16`-coded enum with an `Other(x)` fallback, `from_*`/`code` conversions and
/// `NAMES` (variant, code) for tests.
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident : $ty:ty { $( $var:ident = $code:expr ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        pub enum $name { $( $var, )* Other($ty) }
        impl $name {
            pub fn from_code(c: $ty) -> Self {
                match c { $( x if x == $code => $name::$var, )* other => $name::Other(other) }
            }
            pub fn code(self) -> $ty {
                match self { $( $name::$var => $code, )* $name::Other(c) => c }
            }
            /// (variant name, code) of every named variant.
            pub const NAMES: &'static [(&'static str, $ty)] = &[ $( (stringify!($var), $code) ),* ];
        }
    };
}

coded_enum! {
    /// Instruction bytes (protocol.md 4.1, 12.1).
    Ins: u8 {
        Select = INS_SELECT, AuthInit = INS_AUTH_INIT, AuthFinish = INS_AUTH_FINISH,
        IssueBegin = INS_ISSUE_BEGIN, IssueAuth = INS_ISSUE_AUTH, IssueConfirm = INS_ISSUE_CONFIRM,
        Mint = INS_MINT, Verify = INS_VERIFY, ChangeRef = INS_CHANGE_REF,
        GetStatus = INS_GET_STATUS, GetPending = INS_GET_PENDING, ReadPassbook = INS_READ_PASSBOOK,
        ReadExceptions = INS_READ_EXCEPTIONS, XferPayerInit = INS_XFER_PAYER_INIT, XferPayeeP1 = INS_XFER_PAYEE_P1,
        XferPayerP2P3 = INS_XFER_PAYER_P2P3, XferPayeeP4 = INS_XFER_PAYEE_P4,
        XferPayerAck = INS_XFER_PAYER_ACK, XferAbort = INS_XFER_ABORT,
        ResumeGetP4 = INS_RESUME_GET_P4, ResumeGetOutcome = INS_RESUME_GET_OUTCOME,
        PendingToException = INS_PENDING_TO_EXCEPTION, SyncCardInit = INS_SYNC_CARD_INIT,
        SyncBankInit = INS_SYNC_BANK_INIT, SyncCardS1 = INS_SYNC_CARD_S1,
        SyncBankP5 = INS_SYNC_BANK_P5, SyncCardP6 = INS_SYNC_CARD_P6,
        SyncBankAck = INS_SYNC_BANK_ACK,
        UnblockPin = INS_UNBLOCK_PIN, CenterAdvance = INS_CENTER_ADVANCE,
        AdminInit = INS_ADMIN_INIT, AdminOp = INS_ADMIN_OP, AdminApply = INS_ADMIN_APPLY,
        AdminAck = INS_ADMIN_ACK, ReadBadCards = INS_READ_BAD_CARDS, SetPrivacy = INS_SET_PRIVACY,
    }
}

coded_enum! {
    /// Card role (protocol.md 1, F1). `None` only on blank cards.
    Role: u8 {
        None = ROLE_NONE, Center = ROLE_CENTER, Region = ROLE_REGION, Branch = ROLE_BRANCH,
        User = ROLE_USER, Admin = ROLE_ADMIN,
    }
}

coded_enum! {
    /// Life cycle (protocol.md 3).
    Life: u8 {
        Blank = LIFE_BLANK, Active = LIFE_ACTIVE, Invalidated = LIFE_INVALIDATED,
    }
}

coded_enum! {
    /// Crypto suite (protocol.md 2.1).
    Suite: u8 {
        None = SUITE_NONE, Aes128 = SUITE_AES128, Tdes3 = SUITE_TDES3,
    }
}

coded_enum! {
    /// Packet TYPE byte (protocol.md 2.4, 5, 6.3, 12.1).
    PacketType: u8 {
        G1 = PT_G1, G2 = PT_G2, I1 = PT_I1, I2 = PT_I2, P1 = PT_P1, P2 = PT_P2, P3 = PT_P3,
        P4 = PT_P4, Ack = PT_ACK, Nack = PT_NACK, S1 = PT_S1, S2 = PT_S2, P5 = PT_P5, P6 = PT_P6,
        Sack = PT_SACK, Snack = PT_SNACK, Invalidate = PT_INVALIDATE, A1 = PT_A1, A2 = PT_A2,
        A3 = PT_A3, A4 = PT_A4, A5 = PT_A5, A6 = PT_A6,
    }
}

coded_enum! {
    /// Passbook entry TYPE (protocol.md 3.1).
    EntryType: u8 {
        Debit = PB_TYPE_DEBIT, Credit = PB_TYPE_CREDIT, Mint = PB_TYPE_MINT,
        InterestIn = PB_TYPE_INTEREST_IN, InterestOut = PB_TYPE_INTEREST_OUT,
        DebitRefunded = PB_TYPE_DEBIT_REFUNDED, Exception = PB_TYPE_EXCEPTION,
    }
}

coded_enum! {
    /// VERIFY / CHANGE REFERENCE DATA reference (P2).
    SecretRef: u8 {
        Pin = REF_PIN, TxKey = REF_TXKEY, Creation = REF_CREATION, Approval = REF_APPROVAL,
    }
}

coded_enum! {
    /// OUT / IN slot state (protocol.md 4.4; 02 = sync, issue 4; anything else: unfinished, other kind).
    SlotState: u8 {
        None = SLOT_NONE, Transfer = SLOT_PENDING, Sync = SLOT_SYNC,
    }
}

coded_enum! {
    /// OUTCOMES kind.
    OutcomeKind: u8 {
        Ack = OUTCOME_ACK, Nack = OUTCOME_NACK,
    }
}

impl Suite {
    /// Key length KL in bytes (16 AES, 24 TDES); 0 for none/unknown.
    pub fn key_len(self) -> usize {
        match self {
            Suite::Aes128 => KEYLEN_AES as usize,
            Suite::Tdes3 => KEYLEN_TDES as usize,
            _ => 0,
        }
    }
    /// Cipher block length (16 AES, 8 TDES); 0 for none/unknown.
    pub fn block_len(self) -> usize {
        match self {
            Suite::Aes128 => BLOCK_AES as usize,
            Suite::Tdes3 => BLOCK_TDES as usize,
            _ => 0,
        }
    }
    pub fn name(self) -> String {
        match self {
            Suite::None => "none".into(),
            Suite::Aes128 => "AES-128".into(),
            Suite::Tdes3 => "3-key TDES".into(),
            Suite::Other(x) => format!("unknown suite {x:02X}"),
        }
    }
}

impl Role {
    pub fn name(self) -> String {
        match self {
            Role::None => "none".into(),
            Role::Center => "center".into(),
            Role::Region => "region".into(),
            Role::Branch => "branch".into(),
            Role::User => "user".into(),
            Role::Admin => "admin".into(),
            Role::Other(x) => format!("role {x:02X}"),
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s.to_ascii_lowercase().as_str() {
            "center" | "centre" => Role::Center,
            "region" => Role::Region,
            "branch" => Role::Branch,
            "user" => Role::User,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
    /// A bank card: center, region or branch (they sync other cards; their passbook never fills).
    pub fn is_bank(self) -> bool {
        matches!(self, Role::Center | Role::Region | Role::Branch)
    }
    /// FIG. 2 pair matrix (protocol.md 6.1): may `self` pay `payee`?
    pub fn may_pay(self, payee: Role) -> bool {
        use Role::*;
        matches!(
            (self, payee),
            (Center, Region)
                | (Region, Center)
                | (Region, Branch)
                | (Branch, Region)
                | (Branch, User)
                | (User, Branch)
                | (User, User)
        )
    }
}

impl Life {
    pub fn name(self) -> String {
        match self {
            Life::Blank => "blank".into(),
            Life::Active => "active".into(),
            Life::Invalidated => "invalidated".into(),
            Life::Other(x) => format!("life {x:02X}"),
        }
    }
}

impl EntryType {
    pub fn name(self) -> String {
        match self {
            EntryType::Debit => "DEBIT".into(),
            EntryType::Credit => "CREDIT".into(),
            EntryType::Mint => "MINT".into(),
            EntryType::InterestIn => "INTEREST_IN".into(),
            EntryType::InterestOut => "INTEREST_OUT".into(),
            EntryType::DebitRefunded => "DEBIT_REFUNDED".into(),
            EntryType::Exception => "EXCEPTION".into(),
            EntryType::Other(x) => format!("TYPE_{x:02X}"),
        }
    }
}

impl SecretRef {
    pub fn name(self) -> &'static str {
        match self {
            SecretRef::Pin => "PIN",
            SecretRef::TxKey => "transaction key",
            SecretRef::Creation => "creation secret",
            SecretRef::Approval => "approval secret",
            SecretRef::Other(_) => "secret",
        }
    }
    /// Allowed length range of the secret (protocol.md 1, SECRET).
    pub fn len_range(self) -> (usize, usize) {
        match self {
            SecretRef::Pin => (PIN_MIN as usize, PIN_MAX as usize),
            SecretRef::TxKey => (TXKEY_MIN as usize, TXKEY_MAX as usize),
            _ => (SECRET_MIN as usize, SECRET_MAX as usize),
        }
    }
}

/// Status words (protocol.md 4.2). `VerifyFailed(x)` is 63Cx; anything unlisted is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Sw {
    Ok,
    WrongLength,
    WrongData,
    /// 6A81: a blank card with the user-card applet refuses genesis and bank-role issuance.
    FuncNotSupported,
    RecordNotFound,
    WrongP1P2,
    InsNotSupported,
    ClaNotSupported,
    SecurityStatus,
    AuthBlocked,
    VerifyFailed(u8),
    Conditions,
    Locked,
    NoCommonKeys,
    BadPacket,
    PairNotAllowed,
    InsufficientFunds,
    Overflow,
    AmountMismatch,
    PassbookFull,
    PendingOut,
    PayeeExpecting,
    UnknownTransfer,
    AlreadyCredited,
    CurrencyMismatch,
    BadName,
    SameCard,
    ExceptionLogFull,
    Integrity,
    WrongRole,
    PinRequired,
    TxkeyRequired,
    ApprovalRequired,
    CreationRequired,
    AccountsExhausted,
    TransportBlocked,
    Invalidated,
    Blank,
    Personalised,
    ListedBadCard,
    AccountOutOfRange,
    DateBackwards,
    BadCardListFull,
    NotListed,
    KeysTooOld,
    PassbookNotFed,
    /// 6F00: never sent by a correct applet (uncaught exception).
    NoPreciseDiagnosis,
    /// 6A82 at SELECT: no applet with that AID on the card (ISO 7816-4; not the applet's).
    AppletNotFound,
    /// 6999 at SELECT: the applet refused to be selected (ISO 7816-4; not the applet's).
    SelectFailed,
    Other(u16),
}

/// ISO 7816-4 words a host meets before any purse applet answers (the card manager's answer
/// to SELECT); Constants.java has no SW_ for them, so they stay out of [`SW_TABLE`] and of the
/// agreement check.
const ISO_TABLE: &[(Sw, u16, &str)] = &[
    (Sw::AppletNotFound, 0x6A82, "APPLET_NOT_FOUND"),
    (Sw::SelectFailed, 0x6999, "SELECT_FAILED"),
];

const SW_TABLE: &[(Sw, u16, &str)] = &[
    (Sw::Ok, SW_OK, "OK"),
    (Sw::WrongLength, SW_WRONG_LENGTH, "WRONG_LENGTH"),
    (Sw::WrongData, SW_WRONG_DATA, "WRONG_DATA"),
    (
        Sw::FuncNotSupported,
        SW_FUNC_NOT_SUPPORTED,
        "FUNC_NOT_SUPPORTED",
    ),
    (Sw::RecordNotFound, SW_RECORD_NOT_FOUND, "RECORD_NOT_FOUND"),
    (Sw::WrongP1P2, SW_WRONG_P1P2, "WRONG_P1P2"),
    (
        Sw::InsNotSupported,
        SW_INS_NOT_SUPPORTED,
        "INS_NOT_SUPPORTED",
    ),
    (
        Sw::ClaNotSupported,
        SW_CLA_NOT_SUPPORTED,
        "CLA_NOT_SUPPORTED",
    ),
    (Sw::SecurityStatus, SW_SECURITY_STATUS, "SECURITY_STATUS"),
    (Sw::AuthBlocked, SW_AUTH_BLOCKED, "AUTH_BLOCKED"),
    (Sw::Conditions, SW_CONDITIONS, "CONDITIONS"),
    (Sw::Locked, SW_LOCKED, "LOCKED"),
    (Sw::NoCommonKeys, SW_NO_COMMON_KEYS, "NO_COMMON_KEYS"),
    (Sw::BadPacket, SW_BAD_PACKET, "BAD_PACKET"),
    (Sw::PairNotAllowed, SW_PAIR_NOT_ALLOWED, "PAIR_NOT_ALLOWED"),
    (
        Sw::InsufficientFunds,
        SW_INSUFFICIENT_FUNDS,
        "INSUFFICIENT_FUNDS",
    ),
    (Sw::Overflow, SW_OVERFLOW, "OVERFLOW"),
    (Sw::AmountMismatch, SW_AMOUNT_MISMATCH, "AMOUNT_MISMATCH"),
    (Sw::PassbookFull, SW_PASSBOOK_FULL, "PASSBOOK_FULL"),
    (Sw::PendingOut, SW_PENDING_OUT, "PENDING_OUT"),
    (Sw::PayeeExpecting, SW_PAYEE_EXPECTING, "PAYEE_EXPECTING"),
    (Sw::UnknownTransfer, SW_UNKNOWN_TRANSFER, "UNKNOWN_TRANSFER"),
    (Sw::AlreadyCredited, SW_ALREADY_CREDITED, "ALREADY_CREDITED"),
    (
        Sw::CurrencyMismatch,
        SW_CURRENCY_MISMATCH,
        "CURRENCY_MISMATCH",
    ),
    (Sw::BadName, SW_BAD_NAME, "BAD_NAME"),
    (Sw::SameCard, SW_SAME_CARD, "SAME_CARD"),
    (
        Sw::ExceptionLogFull,
        SW_EXCEPTION_LOG_FULL,
        "EXCEPTION_LOG_FULL",
    ),
    (Sw::Integrity, SW_INTEGRITY, "INTEGRITY"),
    (Sw::WrongRole, SW_WRONG_ROLE, "WRONG_ROLE"),
    (Sw::PinRequired, SW_PIN_REQUIRED, "PIN_REQUIRED"),
    (Sw::TxkeyRequired, SW_TXKEY_REQUIRED, "TXKEY_REQUIRED"),
    (
        Sw::ApprovalRequired,
        SW_APPROVAL_REQUIRED,
        "APPROVAL_REQUIRED",
    ),
    (
        Sw::CreationRequired,
        SW_CREATION_REQUIRED,
        "CREATION_REQUIRED",
    ),
    (
        Sw::AccountsExhausted,
        SW_ACCOUNTS_EXHAUSTED,
        "ACCOUNTS_EXHAUSTED",
    ),
    (
        Sw::TransportBlocked,
        SW_TRANSPORT_BLOCKED,
        "TRANSPORT_BLOCKED",
    ),
    (Sw::Invalidated, SW_INVALIDATED, "INVALIDATED"),
    (Sw::Blank, SW_BLANK, "BLANK"),
    (Sw::Personalised, SW_PERSONALISED, "PERSONALISED"),
    (Sw::ListedBadCard, SW_LISTED_BAD_CARD, "LISTED_BAD_CARD"),
    (
        Sw::AccountOutOfRange,
        SW_ACCOUNT_OUT_OF_RANGE,
        "ACCOUNT_OUT_OF_RANGE",
    ),
    (Sw::DateBackwards, SW_DATE_BACKWARDS, "DATE_BACKWARDS"),
    (
        Sw::BadCardListFull,
        SW_BAD_CARD_LIST_FULL,
        "BAD_CARD_LIST_FULL",
    ),
    (Sw::NotListed, SW_NOT_LISTED, "NOT_LISTED"),
    (Sw::KeysTooOld, SW_KEYS_TOO_OLD, "KEYS_TOO_OLD"),
    (Sw::PassbookNotFed, SW_PASSBOOK_NOT_FED, "PASSBOOK_NOT_FED"),
    (Sw::NoPreciseDiagnosis, 0x6F00, "NO_PRECISE_DIAGNOSIS"),
];

impl Sw {
    pub fn from_u16(sw: u16) -> Sw {
        if sw & 0xFFF0 == SW_VERIFY_FAILED {
            return Sw::VerifyFailed((sw & 0x0F) as u8);
        }
        SW_TABLE
            .iter()
            .chain(ISO_TABLE)
            .find(|(_, c, _)| *c == sw)
            .map(|(s, _, _)| *s)
            .unwrap_or(Sw::Other(sw))
    }
    pub fn code(self) -> u16 {
        match self {
            Sw::VerifyFailed(x) => SW_VERIFY_FAILED | (x as u16 & 0x0F),
            Sw::Other(c) => c,
            s => SW_TABLE
                .iter()
                .chain(ISO_TABLE)
                .find(|(t, _, _)| *t == s)
                .map(|(_, c, _)| *c)
                .expect("every named Sw is in SW_TABLE or ISO_TABLE"),
        }
    }
    /// The protocol.md name (`SW_` + this = the Constants.java name), e.g. `BAD_PACKET`.
    pub fn spec_name(self) -> &'static str {
        match self {
            Sw::VerifyFailed(_) => "VERIFY_FAILED",
            Sw::Other(_) => "UNKNOWN",
            s => SW_TABLE
                .iter()
                .chain(ISO_TABLE)
                .find(|(t, _, _)| *t == s)
                .map(|(_, _, n)| *n)
                .unwrap_or("UNKNOWN"),
        }
    }
    /// Every status word of the applet's table (for the agreement test; not the ISO ones).
    pub fn all_named() -> Vec<Sw> {
        SW_TABLE.iter().map(|(s, _, _)| *s).collect()
    }
    pub fn is_ok(self) -> bool {
        self == Sw::Ok
    }
}

impl std::fmt::Display for Sw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X} {}", self.code(), self.spec_name())
    }
}
