//! Paging and filtering of listings.

use uuid::Uuid;

use super::model::{DirectoryGroup, DirectorySite, DirectoryUser, Location, Team};
use crate::error::CoreError;

pub(super) const DEFAULT_LIMIT: u32 = 30;
pub const MAX_LIMIT: u32 = 10_000;

/// `offset`, `limit` and `setId` of a listing request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: u32,
    pub limit: u32,
    pub set_id: Option<Uuid>,
}

impl PageRequest {
    pub fn new(
        offset: Option<i64>,
        limit: Option<i64>,
        set_id: Option<Uuid>,
    ) -> Result<Self, CoreError> {
        let offset = match offset {
            None => 0,
            Some(o) if (0..=i64::from(i32::MAX)).contains(&o) => o as u32,
            Some(o) => {
                return Err(CoreError::validation(
                    "offset",
                    format!("offset must be between 0 and {} (got {o})", i32::MAX),
                ))
            }
        };
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(l) if (1..=i64::from(MAX_LIMIT)).contains(&l) => l as u32,
            Some(l) => {
                return Err(CoreError::validation(
                    "limit",
                    format!("limit must be between 1 and {MAX_LIMIT} (got {l})"),
                ))
            }
        };
        Ok(Self {
            offset,
            limit,
            set_id,
        })
    }
}

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub offset: u32,
    pub limit: u32,
    pub set_id: Uuid,
    /// Items matching the filters in the whole set.
    pub total_count: u32,
    pub results: Vec<T>,
}

impl<T: Clone> Page<T> {
    /// The requested slice of `items`, or of those `admits` keeps. Without a
    /// filter a page costs its own length, not the set's (100,000 users).
    pub(crate) fn select(
        items: &[T],
        request: &PageRequest,
        set_id: Uuid,
        admits: Option<&dyn Fn(&T) -> bool>,
    ) -> Self {
        match admits {
            Some(admits) => Self::of(items.iter().filter(|i| admits(i)), request, set_id),
            None => {
                let start = (request.offset as usize).min(items.len());
                let end = start
                    .saturating_add(request.limit as usize)
                    .min(items.len());
                Self {
                    offset: request.offset,
                    limit: request.limit,
                    set_id,
                    total_count: u32::try_from(items.len()).unwrap_or(u32::MAX),
                    results: items.get(start..end).unwrap_or_default().to_vec(),
                }
            }
        }
    }

    pub(crate) fn of<'a>(
        items: impl Iterator<Item = &'a T>,
        request: &PageRequest,
        set_id: Uuid,
    ) -> Self
    where
        T: 'a,
    {
        let mut total = 0u32;
        let mut results = Vec::new();
        let start = request.offset as usize;
        let end = start.saturating_add(request.limit as usize);
        for (i, item) in items.enumerate() {
            if (start..end).contains(&i) {
                results.push(item.clone());
            }
            total = total.saturating_add(1);
        }
        Self {
            offset: request.offset,
            limit: request.limit,
            set_id,
            total_count: total,
            results,
        }
    }
}

/// `locationFilter` of users and groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocationFilter {
    Cloud,
    OnPremises,
    Hybrid,
    CloudOrHybrid,
    OnPremisesOrHybrid,
    #[default]
    Any,
}

impl LocationFilter {
    pub const NAMES: [&'static str; 6] = [
        "Cloud",
        "OnPremises",
        "Hybrid",
        "CloudOrHybrid",
        "OnPremisesOrHybrid",
        "Any",
    ];

    pub fn parse(s: &str) -> Option<Self> {
        let all = [
            Self::Cloud,
            Self::OnPremises,
            Self::Hybrid,
            Self::CloudOrHybrid,
            Self::OnPremisesOrHybrid,
            Self::Any,
        ];
        Self::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s.trim()))
            .and_then(|i| all.get(i).copied())
    }

    fn admits(self, location: Location) -> bool {
        match self {
            Self::Any => true,
            Self::Cloud => location == Location::Cloud,
            // Objects synchronised from on-premises are hybrid in Microsoft 365;
            // purely on-premises objects are not reachable through Graph.
            Self::OnPremises => false,
            Self::Hybrid | Self::OnPremisesOrHybrid => location == Location::Hybrid,
            Self::CloudOrHybrid => true,
        }
    }
}

/// A case-insensitive substring filter, lower-cased once when the request
/// is read rather than again for every item it is matched against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needle(String);

impl Needle {
    pub fn new(text: &str) -> Self {
        Self(text.to_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn contains(haystack: &str, needle: &Option<Needle>) -> bool {
    needle.as_ref().is_none_or(|n| {
        // ASCII names (most of them) are compared without allocating.
        if haystack.is_ascii() && n.0.is_ascii() {
            let (h, n) = (haystack.as_bytes(), n.0.as_bytes());
            n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
        } else {
            haystack.to_lowercase().contains(&n.0)
        }
    })
}

#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub user_name: Option<Needle>,
    pub display_name: Option<Needle>,
    pub location: LocationFilter,
}

impl UserFilter {
    /// True when every user passes.
    pub fn is_empty(&self) -> bool {
        self.user_name.is_none()
            && self.display_name.is_none()
            && self.location == LocationFilter::Any
    }

    pub fn admits(&self, u: &DirectoryUser) -> bool {
        contains(&u.name, &self.user_name)
            && contains(&u.display_name, &self.display_name)
            && self.location.admits(u.location)
    }
}

#[derive(Clone, Debug, Default)]
pub struct GroupFilter {
    pub display_name: Option<Needle>,
    pub group_name: Option<Needle>,
    pub location: LocationFilter,
}

impl GroupFilter {
    /// True when every group passes.
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none()
            && self.group_name.is_none()
            && self.location == LocationFilter::Any
    }

    pub fn admits(&self, g: &DirectoryGroup) -> bool {
        contains(&g.display_name, &self.display_name)
            && contains(&g.name, &self.group_name)
            && self.location.admits(g.location)
    }

    pub fn admits_team(&self, t: &Team) -> bool {
        contains(&t.display_name, &self.display_name)
    }
}

#[derive(Clone, Debug, Default)]
pub struct SiteFilter {
    pub include_personal_sites: bool,
    /// List the subsites of this site instead of the top-level sites.
    pub parent_id: Option<String>,
    /// `locationFilter` OnPremises: SharePoint Server sites, of which an
    /// Office 365 organization has none.
    pub on_premises_only: bool,
}

impl SiteFilter {
    pub fn admits(&self, s: &DirectorySite) -> bool {
        !self.on_premises_only && (self.include_personal_sites || !s.is_personal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needles_match_case_insensitively_in_ascii_and_beyond() {
        let n = |s: &str| Some(Needle::new(s));
        assert!(contains("Adele Vance", &n("VANCE")));
        assert!(contains("Adele Vance", &n("")));
        assert!(contains("anything", &None));
        assert!(!contains("Adele", &n("adelev")));
        assert!(contains("Jürgen Groß", &n("JÜRGEN")));
        assert!(!contains("Jürgen", &n("jurgen")));
        assert_eq!(Needle::new("ÄbC").as_str(), "äbc");
    }

    #[test]
    fn page_requests_are_bounded() {
        assert_eq!(PageRequest::new(None, None, None).unwrap().limit, 30);
        assert!(PageRequest::new(Some(-1), None, None).is_err());
        assert!(PageRequest::new(None, Some(0), None).is_err());
        assert!(PageRequest::new(None, Some(10_001), None).is_err());
        assert_eq!(
            PageRequest::new(Some(5), Some(10_000), None).unwrap().limit,
            10_000
        );
    }

    #[test]
    fn a_page_slices_and_counts_the_matches() {
        let items: Vec<u32> = (0..10).collect();
        let req = PageRequest::new(Some(8), Some(5), None).unwrap();
        let page = Page::of(items.iter().filter(|i| **i != 3), &req, Uuid::nil());
        assert_eq!(page.total_count, 9);
        assert_eq!(page.results, vec![9]);
        let req = PageRequest::new(Some(20), Some(5), None).unwrap();
        assert!(Page::of(items.iter(), &req, Uuid::nil()).results.is_empty());
    }

    #[test]
    fn selecting_without_a_filter_slices_and_with_one_counts_matches() {
        let items: Vec<u32> = (0..10).collect();
        let req = PageRequest::new(Some(8), Some(5), None).unwrap();
        let all = Page::select(&items, &req, Uuid::nil(), None);
        assert_eq!((all.total_count, all.results), (10, vec![8, 9]));
        let odd = |i: &u32| i % 2 == 1;
        let some = Page::select(&items, &req, Uuid::nil(), Some(&odd));
        assert_eq!((some.total_count, some.results), (5, vec![]));
        let beyond = PageRequest::new(Some(50), Some(5), None).unwrap();
        assert!(Page::select(&items, &beyond, Uuid::nil(), None)
            .results
            .is_empty());
    }

    #[test]
    fn location_filters_parse_case_insensitively() {
        assert_eq!(
            LocationFilter::parse("cloudorhybrid"),
            Some(LocationFilter::CloudOrHybrid)
        );
        assert_eq!(LocationFilter::parse("Mars"), None);
        assert!(LocationFilter::Cloud.admits(Location::Cloud));
        assert!(!LocationFilter::Cloud.admits(Location::Hybrid));
        assert!(!LocationFilter::OnPremises.admits(Location::Cloud));
    }
}
