//! The breaking rules, in one place: [`impact`] maps a change kind and the side
//! of the exchange it touches to whether it breaks clients and servers.
//!
//! Two questions, asked of every change from version *old* to version *new*:
//!
//! * **breaks clients**: may a client written for *old*, talking to a server
//!   of *new*, fail or silently lose behaviour it relied on? (Backward
//!   compatibility of the server.)
//! * **breaks servers**: must a server written for *old* change to serve
//!   clients written for *new*? (What an implementation such as drydock's
//!   engine must add.)
//!
//! Data flows one way on each side, and the two questions mirror each other:
//!
//! * On the **request** side the client writes and the server reads. A change
//!   that narrows what the server accepts (a new required parameter or field, a
//!   removed enum value, a removed field or parameter whose effect is lost) breaks
//!   old clients. A change that widens what clients may send (a new optional
//!   parameter, a new enum value, a field becoming optional or nullable) breaks
//!   old servers, which do not know it.
//! * On the **response** side the server writes and the client reads. A change
//!   that widens what the server may send (a new enum value or success status, a
//!   field becoming optional or nullable) or drops what clients read (a removed
//!   field or header) breaks old clients. A change that narrows what the server
//!   may send (a removed enum value or success status, a field becoming required
//!   or non-nullable, a new required field) breaks old servers, which still send
//!   the old shape.
//!
//! Docker's API uses an open schema model (both ends ignore unknown properties),
//! so a new optional response field breaks neither side. A changed type, body
//! encoding or default breaks both sides. New and removed error statuses break
//! neither: clients handle errors they do not know generically.

use crate::change::{ChangeKind, Side};

/// Whether a change breaks clients and servers; see the [module docs](self).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Impact {
    /// A client of the old version may fail against a server of the new one.
    pub breaks_clients: bool,
    /// A server of the old version must change to serve clients of the new one.
    pub breaks_servers: bool,
}

impl Impact {
    /// Breaks nothing.
    pub const NONE: Impact = Impact::new(false, false);

    const fn new(breaks_clients: bool, breaks_servers: bool) -> Self {
        Impact {
            breaks_clients,
            breaks_servers,
        }
    }

    /// Breaks whatever either impact breaks (a type reached from both sides).
    pub fn or(self, other: Impact) -> Impact {
        Impact::new(
            self.breaks_clients || other.breaks_clients,
            self.breaks_servers || other.breaks_servers,
        )
    }
}

/// The breaking rule for a change of `kind` touching `side`.
pub fn impact(kind: ChangeKind, side: Side) -> Impact {
    use ChangeKind::*;
    use Side::*;
    const CLIENTS: Impact = Impact::new(true, false);
    const SERVERS: Impact = Impact::new(false, true);
    const BOTH: Impact = Impact::new(true, true);
    const NONE: Impact = Impact::NONE;
    match (kind, side) {
        // Old servers answer 404; old clients never call it.
        (OperationAdded, _) => SERVERS,
        // Old clients call it and get 404.
        (OperationRemoved, _) => CLIENTS,

        // Old clients never send it, old servers ignore it.
        (OptionalParameterAdded | OptionalRequestBodyAdded, _) => SERVERS,
        // Old clients never send it, and they must.
        (RequiredParameterAdded | RequiredRequestBodyAdded, _) => BOTH,
        // Old clients send it and lose its effect.
        (ParameterRemoved | RequestBodyRemoved, _) => CLIENTS,
        (ParameterBecameRequired | RequestBodyBecameRequired, _) => CLIENTS,
        // New clients omit it; old servers demand it.
        (ParameterBecameOptional | RequestBodyBecameOptional, _) => SERVERS,
        // Whoever omits the value gets behaviour the other end did not mean.
        (ParameterDefaultChanged, _) => BOTH,
        (ParameterTypeChanged | BodyKindChanged | BodyTypeChanged | TypeChanged, _) => BOTH,
        (FieldTypeChanged, _) => BOTH,
        // Same JSON under another name; a renamed type's own changes are separate entries.
        (TypeRenamed, _) => NONE,
        // Words for people; no program reads them.
        (DescriptionChanged, _) => NONE,

        // New media types are negotiated: only servers must add them.
        (ContentTypeAdded, _) => SERVERS,
        (ContentTypeRemoved, _) => CLIENTS,

        // A success status old clients have no case for; one new clients no longer expect.
        (SuccessStatusAdded, _) => CLIENTS,
        (SuccessStatusRemoved, _) => SERVERS,
        (ErrorStatusAdded | ErrorStatusRemoved, _) => NONE,
        (ResponseHeaderAdded, _) => NONE,
        (ResponseHeaderRemoved, _) => CLIENTS,

        (OptionalFieldAdded, Request | Operation) => SERVERS,
        (OptionalFieldAdded, Response) => NONE,
        (RequiredFieldAdded, Request | Operation) => BOTH,
        (RequiredFieldAdded, Response) => SERVERS,
        // Request: old clients send it and lose its effect. Response: old clients read it.
        (FieldRemoved, _) => CLIENTS,
        (FieldBecameRequired | FieldBecameNonNullable, Request | Operation) => CLIENTS,
        (FieldBecameRequired | FieldBecameNonNullable, Response) => SERVERS,
        (FieldBecameOptional | FieldBecameNullable, Request | Operation) => SERVERS,
        (FieldBecameOptional | FieldBecameNullable, Response) => CLIENTS,
        (FieldDefaultChanged, Request | Operation) => BOTH,
        // A response default only documents what servers send.
        (FieldDefaultChanged, Response) => NONE,

        // Narrower: like removed enum values. Wider: like added ones.
        (TypeNarrowed, Request | Operation) => CLIENTS,
        (TypeNarrowed, Response) => SERVERS,
        (TypeWidened, Request | Operation) => SERVERS,
        (TypeWidened, Response) => CLIENTS,

        (EnumValueAdded, Request | Operation) => SERVERS,
        (EnumValueAdded, Response) => CLIENTS,
        (EnumValueRemoved, Request | Operation) => CLIENTS,
        (EnumValueRemoved, Response) => SERVERS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChangeKind::*;
    use Side::*;

    fn flags(kind: ChangeKind, side: Side) -> (bool, bool) {
        let i = impact(kind, side);
        (i.breaks_clients, i.breaks_servers)
    }

    #[test]
    fn new_required_request_field_or_parameter_breaks_old_clients() {
        assert_eq!(flags(RequiredFieldAdded, Request), (true, true));
        assert_eq!(flags(RequiredParameterAdded, Request), (true, true));
    }

    #[test]
    fn new_optional_request_field_or_parameter_only_needs_servers_to_change() {
        assert_eq!(flags(OptionalFieldAdded, Request), (false, true));
        assert_eq!(flags(OptionalParameterAdded, Request), (false, true));
    }

    #[test]
    fn new_optional_response_field_breaks_nothing_in_an_open_schema() {
        assert_eq!(flags(OptionalFieldAdded, Response), (false, false));
    }

    #[test]
    fn removed_response_field_breaks_clients_that_read_it() {
        assert_eq!(flags(FieldRemoved, Response), (true, false));
    }

    #[test]
    fn removed_enum_value_breaks_clients_in_requests_and_servers_in_responses() {
        assert_eq!(flags(EnumValueRemoved, Request), (true, false));
        assert_eq!(flags(EnumValueRemoved, Response), (false, true));
    }

    #[test]
    fn added_enum_value_breaks_servers_in_requests_and_clients_in_responses() {
        assert_eq!(flags(EnumValueAdded, Request), (false, true));
        assert_eq!(flags(EnumValueAdded, Response), (true, false));
    }

    #[test]
    fn removed_operation_breaks_clients_and_added_operation_breaks_servers() {
        assert_eq!(flags(OperationRemoved, Operation), (true, false));
        assert_eq!(flags(OperationAdded, Operation), (false, true));
    }

    #[test]
    fn optionality_and_nullability_mirror_between_request_and_response() {
        for kind in [FieldBecameOptional, FieldBecameNullable] {
            assert_eq!(flags(kind, Request), (false, true), "{kind}");
            assert_eq!(flags(kind, Response), (true, false), "{kind}");
        }
        for kind in [FieldBecameRequired, FieldBecameNonNullable] {
            assert_eq!(flags(kind, Request), (true, false), "{kind}");
            assert_eq!(flags(kind, Response), (false, true), "{kind}");
        }
    }

    #[test]
    fn narrowed_and_widened_types_mirror_removed_and_added_enum_values() {
        for side in [Request, Response] {
            assert_eq!(flags(TypeNarrowed, side), flags(EnumValueRemoved, side));
            assert_eq!(flags(TypeWidened, side), flags(EnumValueAdded, side));
        }
    }

    #[test]
    fn renamed_type_with_the_same_json_breaks_nothing() {
        assert_eq!(flags(TypeRenamed, Request), (false, false));
        assert_eq!(flags(DescriptionChanged, Request), (false, false));
        assert_eq!(flags(DescriptionChanged, Response), (false, false));
        assert_eq!(flags(TypeRenamed, Response), (false, false));
    }

    #[test]
    fn type_and_encoding_changes_break_both_sides() {
        for kind in [
            FieldTypeChanged,
            ParameterTypeChanged,
            BodyKindChanged,
            BodyTypeChanged,
            TypeChanged,
        ] {
            assert_eq!(flags(kind, Request), (true, true), "{kind}");
            assert_eq!(flags(kind, Response), (true, true), "{kind}");
        }
    }

    #[test]
    fn error_statuses_break_nothing_but_success_statuses_do() {
        assert_eq!(flags(ErrorStatusAdded, Response), (false, false));
        assert_eq!(flags(ErrorStatusRemoved, Response), (false, false));
        assert_eq!(flags(SuccessStatusAdded, Response), (true, false));
        assert_eq!(flags(SuccessStatusRemoved, Response), (false, true));
    }

    #[test]
    fn a_type_reached_from_both_sides_breaks_what_either_side_breaks() {
        let both = impact(EnumValueAdded, Request).or(impact(EnumValueAdded, Response));
        assert_eq!((both.breaks_clients, both.breaks_servers), (true, true));
    }
}
