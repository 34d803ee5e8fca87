//! The Microsoft Azure region of an organization (`RestOrganizationRegion`).

use serde::{Deserialize, Serialize};

/// The Microsoft 365 national clouds. A token from one is useless in another;
/// the connector knows their hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NationalCloud {
    Global,
    /// GCC High (L4).
    UsGovHigh,
    /// DoD (L5).
    UsGovDod,
    /// Operated by 21Vianet.
    China,
    /// Microsoft Cloud Deutschland.
    Germany,
}

/// Spelled exactly as the v6 schema spells the enum values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Region {
    Worldwide,
    Germany,
    China,
    USDefence,
    USGovernment,
}

impl Region {
    pub const ALL: [Region; 5] = [
        Region::Worldwide,
        Region::Germany,
        Region::China,
        Region::USDefence,
        Region::USGovernment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Worldwide => "Worldwide",
            Region::Germany => "Germany",
            Region::China => "China",
            Region::USDefence => "USDefence",
            Region::USGovernment => "USGovernment",
        }
    }

    pub fn parse(s: &str) -> Option<Region> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The national cloud whose sign-in and Graph hosts serve this region.
    pub fn cloud(self) -> NationalCloud {
        match self {
            Region::Worldwide => NationalCloud::Global,
            Region::Germany => NationalCloud::Germany,
            Region::China => NationalCloud::China,
            Region::USDefence => NationalCloud::UsGovDod,
            Region::USGovernment => NationalCloud::UsGovHigh,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_value_case_insensitively() {
        for r in Region::ALL {
            assert_eq!(Region::parse(&r.as_str().to_uppercase()), Some(r));
        }
        assert_eq!(Region::parse("Mars"), None);
    }

    #[test]
    fn each_region_is_served_by_its_national_cloud() {
        let clouds: Vec<_> = Region::ALL.into_iter().map(Region::cloud).collect();
        assert_eq!(
            clouds,
            [
                NationalCloud::Global,
                NationalCloud::Germany,
                NationalCloud::China,
                NationalCloud::UsGovDod,
                NationalCloud::UsGovHigh,
            ]
        );
    }
}
