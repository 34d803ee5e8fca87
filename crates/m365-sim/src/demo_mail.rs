//! A little real-looking mail for the demo tenant, so `openvbo demo` has
//! mailboxes to back up: a thread in Adele's inbox (one message with an
//! attachment), a project folder, a sent reply, and a raw MIME newsletter
//! in Megan's mailbox.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::mail_spec::{AttachmentSpec, MailFolderSpec, MessageSpec};
use crate::tenant::Tenant;

const DOMAIN: &str = "contoso-demo.com";

fn message(from: &str, to: &str, subject: &str, at: &str, body: &str) -> MessageSpec {
    MessageSpec {
        subject: Some(subject.to_owned()),
        from: Some(format!("{from}@{DOMAIN}")),
        to: vec![format!("{to}@{DOMAIN}")],
        received_date_time: Some(at.to_owned()),
        body: Some(body.to_owned()),
        ..MessageSpec::default()
    }
}

fn folder(name: &str, well_known: Option<&str>, messages: Vec<MessageSpec>) -> MailFolderSpec {
    MailFolderSpec {
        display_name: name.to_owned(),
        well_known_name: well_known.map(str::to_owned),
        messages,
        ..MailFolderSpec::default()
    }
}

const NEWSLETTER: &str = "From: Contoso News <news@contoso-demo.com>\r\nTo: megan.bowen@contoso-demo.com\r\nSubject: Contoso weekly: the new office opens\r\nMessage-ID: <weekly-42@contoso-demo.com>\r\nDate: Mon, 05 Oct 2026 07:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n\r\nThe Redmond office opens on Monday. Parking is on level 2.\r\n";

/// Adds the demo mail to Adele's and Megan's mailboxes.
pub(crate) fn with_mail(mut tenant: Tenant) -> Tenant {
    for user in &mut tenant.users {
        let upn = user.user_principal_name.clone();
        if upn.starts_with("adele.vance@") {
            let mut plan = message(
                "alex.wilber",
                "adele.vance",
                "Q3 plan",
                "2026-10-01T09:30:00Z",
                "Hi Adele,\n\nthe Q3 plan is attached. Can we go through it on Thursday?\n\nAlex",
            );
            plan.body_html = Some("<p>Hi Adele,</p><p>the Q3 plan is attached. Can we go through it on Thursday?</p><p>Alex</p>".to_owned());
            plan.attachments = vec![AttachmentSpec {
                name: "q3-plan.csv".to_owned(),
                content_type: Some("text/csv".to_owned()),
                content_base64: Some(STANDARD.encode("quarter,target\nQ3,1200\n")),
                ..AttachmentSpec::default()
            }];
            let mut reviewed = message(
                "megan.bowen",
                "adele.vance",
                "Mark 8 review notes",
                "2026-09-28T15:10:00Z",
                "Notes from today's review are in the project site.",
            );
            reviewed.is_read = true;
            let mut inbox = folder("Inbox", Some("inbox"), vec![plan, reviewed]);
            inbox.child_folders = vec![folder(
                "Mark 8",
                None,
                vec![message(
                    "diego.siciliani",
                    "adele.vance",
                    "Prototype shipping dates",
                    "2026-09-15T11:00:00Z",
                    "The prototypes ship on the 30th.",
                )],
            )];
            let sent = folder(
                "Sent Items",
                Some("sentitems"),
                vec![message(
                    "adele.vance",
                    "alex.wilber",
                    "RE: Q3 plan",
                    "2026-10-01T10:02:00Z",
                    "Thursday works. See you then.",
                )],
            );
            user.mail_folders = vec![inbox, sent];
        } else if upn.starts_with("megan.bowen@") {
            user.mail_folders = vec![folder(
                "Inbox",
                Some("inbox"),
                vec![MessageSpec {
                    mime: Some(NEWSLETTER.to_owned()),
                    ..MessageSpec::default()
                }],
            )];
        }
    }
    tenant
}
