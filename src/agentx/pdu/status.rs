//! Enumerated wire codes: `res.error` and `c.reason`. Unknown codes are kept
//! (`Unknown`) rather than rejected, so a newer peer's reply still decodes.

/// Defines a code enum with named values plus `Unknown(raw)` and a lossless
/// conversion in both directions.
macro_rules! wire_codes {
    ($(#[$meta:meta])* $name:ident: $raw:ty { $($variant:ident = $code:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A code this implementation does not name. Never holds the
            /// code of a named variant (`from_code` maps those to the name).
            Unknown($raw),
        }

        impl $name {
            pub fn from_code(code: $raw) -> Self {
                match code {
                    $($code => $name::$variant,)+
                    other => $name::Unknown(other),
                }
            }

            pub fn code(self) -> $raw {
                match self {
                    $($name::$variant => $code,)+
                    $name::Unknown(c) => c,
                }
            }
        }
    };
}

wire_codes! {
    /// `res.error`: SNMPv2 error-status values (RFC 3416 §3) and the
    /// AgentX administrative errors (RFC 2741 §6.2.16).
    ErrorStatus: u16 {
        NoError = 0,
        TooBig = 1,
        NoSuchName = 2,
        BadValue = 3,
        ReadOnly = 4,
        GenErr = 5,
        NoAccess = 6,
        WrongType = 7,
        WrongLength = 8,
        WrongEncoding = 9,
        WrongValue = 10,
        NoCreation = 11,
        InconsistentValue = 12,
        ResourceUnavailable = 13,
        CommitFailed = 14,
        UndoFailed = 15,
        AuthorizationError = 16,
        NotWritable = 17,
        InconsistentName = 18,
        OpenFailed = 256,
        NotOpen = 257,
        IndexWrongType = 258,
        IndexAlreadyAllocated = 259,
        IndexNoneAvailable = 260,
        IndexNotAllocated = 261,
        UnsupportedContext = 262,
        DuplicateRegistration = 263,
        UnknownRegistration = 264,
        UnknownAgentCaps = 265,
        ParseError = 266,
        RequestDenied = 267,
        ProcessingError = 268,
    }
}

wire_codes! {
    /// `c.reason` of an agentx-Close-PDU (RFC 2741 §6.2.2).
    CloseReason: u8 {
        Other = 1,
        ParseError = 2,
        ProtocolError = 3,
        Timeouts = 4,
        Shutdown = 5,
        ByManager = 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknowns_are_kept() {
        for code in 0..=u16::MAX {
            assert_eq!(ErrorStatus::from_code(code).code(), code);
        }
        for code in 0..=u8::MAX {
            assert_eq!(CloseReason::from_code(code).code(), code);
        }
        assert_eq!(ErrorStatus::from_code(17), ErrorStatus::NotWritable);
        assert_eq!(
            ErrorStatus::from_code(263),
            ErrorStatus::DuplicateRegistration
        );
        assert_eq!(ErrorStatus::from_code(19), ErrorStatus::Unknown(19));
        assert_eq!(CloseReason::from_code(5), CloseReason::Shutdown);
    }
}
