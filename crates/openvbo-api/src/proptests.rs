//! Property tests: the request-body normalisation, the validators and the
//! path canonicalisation never panic, whatever arrives.

use crate::organization_input::OrganizationInput;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::json::{form_to_value, from_value, parse_value};
use crate::paths;

/// Any JSON value, a few levels deep, with keys from the real schema mixed in.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("type".to_owned()),
        Just("region".to_owned()),
        Just("isExchangeOnline".to_owned()),
        Just("isSharePointOnline".to_owned()),
        Just("isTeamsOnline".to_owned()),
        Just("isTeamsChatsOnline".to_owned()),
        Just("exchangeOnlineSettings".to_owned()),
        Just("sharePointOnlineSettings".to_owned()),
        Just("account".to_owned()),
        Just("password".to_owned()),
        Just("useMfa".to_owned()),
        Just("applicationId".to_owned()),
        "[a-zA-Z_]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("Office365"),
            Just("office365"),
            Just("Worldwide"),
            Just("USDEFENCE"),
            Just("OnPremises"),
            Just("a@b.onmicrosoft.com")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..8)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Flips the case of each letter by the mask, as a v5-era script might.
fn scramble(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn scramble_keys(v: &Value, mask: u64) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (scramble(k, mask), scramble_keys(v, mask.rotate_left(7))))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| scramble_keys(v, mask)).collect()),
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(v) = parse_value(&bytes) {
            let _ = from_value::<OrganizationInput>(&v).map(|i| i.into_new());
        }
        let _ = form_to_value(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics_the_validators(v in json_value()) {
        if let Ok(input) = from_value::<OrganizationInput>(&v) {
            let _ = input.into_new();
        }
    }

    #[test]
    fn names_and_enums_match_whatever_their_case(mask in any::<u64>(), type_mask in any::<u64>()) {
        let body = json!({
            "type": scramble("Office365", type_mask),
            "region": scramble("USGovernment", type_mask.rotate_left(3)),
            "isExchangeOnline": true,
            "isSharePointOnline": false,
            "exchangeOnlineSettings": {"account": "admin@contoso.onmicrosoft.com", "password": "x", "grantAdminAccess": true}
        });
        let input: OrganizationInput = from_value(&scramble_keys(&body, mask)).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        let new = input.into_new().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(new.region, openvbo_core::Region::USGovernment);
        let exchange = new.accounts.exchange.as_ref().ok_or_else(|| TestCaseError::fail("no exchange"))?;
        prop_assert_eq!(exchange.account.as_str(), "admin@contoso.onmicrosoft.com");
        prop_assert!(exchange.grant_admin_access);
        prop_assert!(new.accounts.sharepoint.is_none());
    }

    #[test]
    fn path_canonicalisation_never_panics_and_is_stable(path in "(/[A-Za-z0-9%,._{}-]{0,12}){0,7}/?") {
        if let Some(canonical) = paths::official().canonicalize(&path) {
            prop_assert_eq!(paths::official().canonicalize(&canonical), Some(canonical.clone()));
        }
        let _ = paths::official().operations(&path);
    }
}
