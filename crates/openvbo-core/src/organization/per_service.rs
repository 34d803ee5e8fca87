//! One value for each Microsoft 365 service an organization signs in to
//! (Exchange Online and SharePoint Online). The two are treated alike
//! almost everywhere (accounts, requests, roles, names), so a rule is
//! written once over a `PerService` instead of once per service, and a
//! third service would be added here rather than in every `match`.

use std::ops::{Index, IndexMut};

use super::model::Service;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PerService<T> {
    pub exchange: T,
    pub sharepoint: T,
}

impl<T> PerService<T> {
    /// Each service's value as `f` gives it, Exchange first.
    pub fn from_fn(mut f: impl FnMut(Service) -> T) -> Self {
        let exchange = f(Service::Exchange);
        let sharepoint = f(Service::SharePoint);
        Self {
            exchange,
            sharepoint,
        }
    }

    pub fn as_ref(&self) -> PerService<&T> {
        PerService {
            exchange: &self.exchange,
            sharepoint: &self.sharepoint,
        }
    }

    pub fn map<U>(self, mut f: impl FnMut(Service, T) -> U) -> PerService<U> {
        let exchange = f(Service::Exchange, self.exchange);
        let sharepoint = f(Service::SharePoint, self.sharepoint);
        PerService {
            exchange,
            sharepoint,
        }
    }

    /// Like [`Self::map`], stopping at the first error (Exchange first, so
    /// messages come in the order the v6 schema lists the services).
    pub fn try_map<U, E>(
        self,
        mut f: impl FnMut(Service, T) -> Result<U, E>,
    ) -> Result<PerService<U>, E> {
        let exchange = f(Service::Exchange, self.exchange)?;
        let sharepoint = f(Service::SharePoint, self.sharepoint)?;
        Ok(PerService {
            exchange,
            sharepoint,
        })
    }

    pub fn zip<U>(self, other: PerService<U>) -> PerService<(T, U)> {
        PerService {
            exchange: (self.exchange, other.exchange),
            sharepoint: (self.sharepoint, other.sharepoint),
        }
    }

    /// Every service with its value, in [`Service::ALL`]'s order.
    pub fn iter(&self) -> impl Iterator<Item = (Service, &T)> {
        self.as_ref().into_iter()
    }
}

impl<T> PerService<Option<T>> {
    /// The services that have a value, with it.
    pub fn present(&self) -> impl Iterator<Item = (Service, &T)> {
        self.iter().filter_map(|(s, v)| v.as_ref().map(|v| (s, v)))
    }
}

impl<T> IntoIterator for PerService<T> {
    type Item = (Service, T);
    type IntoIter = std::array::IntoIter<(Service, T), 2>;

    fn into_iter(self) -> Self::IntoIter {
        [
            (Service::Exchange, self.exchange),
            (Service::SharePoint, self.sharepoint),
        ]
        .into_iter()
    }
}

/// Cannot fail: every service has a value.
impl<T> Index<Service> for PerService<T> {
    type Output = T;

    fn index(&self, service: Service) -> &T {
        match service {
            Service::Exchange => &self.exchange,
            Service::SharePoint => &self.sharepoint,
        }
    }
}

impl<T> IndexMut<Service> for PerService<T> {
    fn index_mut(&mut self, service: Service) -> &mut T {
        match service {
            Service::Exchange => &mut self.exchange,
            Service::SharePoint => &mut self.sharepoint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_in_order_and_indexed_by_itself() {
        let keys = PerService::from_fn(Service::key);
        assert_eq!(keys.exchange, "exchange");
        assert_eq!(keys.sharepoint, "sharepoint");
        let order: Vec<Service> = keys.iter().map(|(s, _)| s).collect();
        assert_eq!(order, Service::ALL);
        for (service, key) in keys {
            assert_eq!(keys[service], key);
        }
    }

    #[test]
    fn try_map_stops_at_the_first_error() {
        let mut seen = Vec::new();
        let result: Result<PerService<()>, Service> = PerService::from_fn(|s| s).try_map(|s, _| {
            seen.push(s);
            Err(s)
        });
        assert_eq!(result, Err(Service::Exchange));
        assert_eq!(seen, [Service::Exchange]);
    }

    #[test]
    fn zip_map_and_present_keep_each_service_apart() {
        let mut counts = PerService {
            exchange: 1,
            sharepoint: 2,
        };
        counts[Service::SharePoint] += 10;
        let zipped = counts.zip(PerService::from_fn(Service::key));
        assert_eq!(zipped.sharepoint, (12, "sharepoint"));
        let some = zipped.map(|s, (n, _)| (s == Service::Exchange).then_some(n));
        let present: Vec<_> = some.present().map(|(s, n)| (s, *n)).collect();
        assert_eq!(present, [(Service::Exchange, 1)]);
    }
}
