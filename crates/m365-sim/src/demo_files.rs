//! A few real-looking files for the demo tenant's OneDrives and sites, so
//! `openvbo demo` has something to back up.

use crate::drive_spec::{DriveItemSpec, SiteDriveSpec};
use crate::tenant::Tenant;
use crate::user::User;

fn text(path: &str, content: &str) -> DriveItemSpec {
    DriveItemSpec {
        path: path.to_owned(),
        content: Some(content.to_owned()),
        ..DriveItemSpec::default()
    }
}

fn generated(path: &str, size: u64, seed: u64) -> DriveItemSpec {
    DriveItemSpec {
        path: path.to_owned(),
        size: Some(size),
        seed: Some(seed),
        ..DriveItemSpec::default()
    }
}

/// A 1×1 PNG.
const PIXEL_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// Adds the demo files: the admin's, Adele's and Megan's OneDrives, and the
/// Mark 8 project site's library.
pub(crate) fn with_files(mut tenant: Tenant) -> Tenant {
    fn by_local<'t>(t: &'t mut Tenant, local: &str) -> Option<&'t mut User> {
        t.users
            .iter_mut()
            .find(|u| u.user_principal_name.starts_with(local))
    }
    if let Some(user) = by_local(&mut tenant, "admin@") {
        user.drive_items = vec![
            text(
                "Documents/Welcome.txt",
                "Welcome to the Contoso demo tenant.\r\nEverything here is simulated.\r\n",
            ),
            DriveItemSpec {
                path: "Documents/Archive/".into(),
                ..DriveItemSpec::default()
            },
        ];
    }
    if let Some(user) = by_local(&mut tenant, "adele.vance@") {
        user.drive_items = vec![
            text(
                "Documents/Retail/Store layout.txt",
                "Aisle 1: laptops\nAisle 2: phones\nAisle 3: accessories\n",
            ),
            text(
                "Documents/Retail/Q3 targets.csv",
                "store,target\nSeattle,120000\nRedmond,95000\nBellevue,110000\n",
            ),
            DriveItemSpec {
                path: "Pictures/shelf.png".into(),
                content_base64: Some(PIXEL_PNG.into()),
                ..DriveItemSpec::default()
            },
            generated("Videos/Store walkthrough.mp4", 3_000_000, 8),
        ];
    }
    if let Some(user) = by_local(&mut tenant, "megan.bowen@") {
        user.drive_items = vec![
            text("Marketing/Campaign brief.md", "# Mark 8 launch\n\nAudience: students and travellers.\nChannels: social, retail, events.\n"),
            text("Marketing/Budget.csv", "item,amount\nsocial,40000\nevents,25000\nprint,10000\n"),
        ];
    }
    if let Some(site) = tenant
        .sites
        .iter_mut()
        .find(|s| s.name == "Mark8ProjectTeam")
    {
        site.drives = vec![SiteDriveSpec {
            name: "Documents".into(),
            items: vec![
                text(
                    "Specs/Mark 8 specification.txt",
                    "Weight: 1.1 kg\nBattery: 14 h\nDisplay: 13.5 in\n",
                ),
                text(
                    "Launch plan.txt",
                    "Week 1: press\nWeek 2: retail\nWeek 3: events\n",
                ),
                generated("Design/Mark 8 renders.zip", 12_000_000, 88),
            ],
        }];
    }
    tenant
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_tenant_has_valid_files() {
        let tenant = crate::demo::demo_tenant();
        assert_eq!(tenant.problems(), Vec::<String>::new());
        let files: usize = tenant.users.iter().map(|u| u.drive_items.len()).sum();
        assert_eq!(files, 8);
        assert_eq!(
            tenant.sites.iter().map(|s| s.drives.len()).sum::<usize>(),
            1
        );
    }
}
