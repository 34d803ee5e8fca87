//! Core's [`DriveWriter`] on the connector's drive API, charged to the organization's
//! restore budget (SharePoint's resource units) and sent in the tenant's background lane.

use std::sync::Arc;

use openvbo_core::microsoft365::PortFuture;
use openvbo_core::restore::writers::{ByteReader, DriveEntry, DriveWriter, OnConflict};
use openvbo_m365::drive::{
    quick_xor_hash, ConflictBehavior, DriveApi, DriveId, DriveItem, ItemId, ResourceUnits,
};
use openvbo_m365::GraphSession;

use crate::connector::failure;

pub(super) struct GraphDriveWriter {
    graph: Arc<GraphSession>,
    units: Arc<ResourceUnits>,
}

impl GraphDriveWriter {
    pub(super) fn new(graph: Arc<GraphSession>, units: Arc<ResourceUnits>) -> Self {
        Self { graph, units }
    }

    fn api(&self) -> DriveApi<'_> {
        self.graph.drives(&self.units)
    }
}

fn entry(item: DriveItem) -> DriveEntry {
    DriveEntry {
        is_folder: item.is_folder(),
        content_hash: item.file_facts().quick_xor_hash,
        size: item.size,
        id: item.id.0,
        name: item.name,
    }
}

fn behavior(conflict: OnConflict) -> ConflictBehavior {
    match conflict {
        OnConflict::Fail => ConflictBehavior::Fail,
        OnConflict::Replace => ConflictBehavior::Replace,
        OnConflict::Rename => ConflictBehavior::Rename,
    }
}

impl DriveWriter for GraphDriveWriter {
    fn user_drive<'a>(&'a self, user: &'a str) -> PortFuture<'a, Option<String>> {
        Box::pin(async move {
            let found = self.graph.user_drive(user).await.map_err(failure)?;
            Ok(found.map(|d| d.id))
        })
    }

    fn children<'a>(&'a self, drive: &'a str, folder: &'a str) -> PortFuture<'a, Vec<DriveEntry>> {
        Box::pin(async move {
            let items = self
                .api()
                .children(&DriveId(drive.to_owned()), &ItemId(folder.to_owned()))
                .await
                .map_err(failure)?;
            Ok(items.into_iter().map(entry).collect())
        })
    }

    fn ensure_folder<'a>(
        &'a self,
        drive: &'a str,
        parent: &'a str,
        name: &'a str,
    ) -> PortFuture<'a, String> {
        Box::pin(async move {
            // Replace on a folder answers the existing one: its contents stay.
            let made = self
                .api()
                .create_folder(
                    &DriveId(drive.to_owned()),
                    &ItemId(parent.to_owned()),
                    name,
                    ConflictBehavior::Replace,
                )
                .await
                .map_err(failure)?;
            Ok(made.id.0)
        })
    }

    fn upload<'a>(
        &'a self,
        drive: &'a str,
        parent: &'a str,
        name: &'a str,
        size: u64,
        conflict: OnConflict,
        bytes: ByteReader<'a>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            self.api()
                .upload(
                    &DriveId(drive.to_owned()),
                    &ItemId(parent.to_owned()),
                    name,
                    size,
                    behavior(conflict),
                    bytes,
                )
                .await
                .map(|_| ())
                .map_err(failure)
        })
    }

    fn content_hash<'a>(&'a self, bytes: ByteReader<'a>) -> PortFuture<'a, (String, u64)> {
        Box::pin(async move { quick_xor_hash(bytes).await.map_err(failure) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_mean_the_same_to_both() {
        assert_eq!(behavior(OnConflict::Fail), ConflictBehavior::Fail);
        assert_eq!(behavior(OnConflict::Replace), ConflictBehavior::Replace);
        assert_eq!(behavior(OnConflict::Rename), ConflictBehavior::Rename);
    }
}
