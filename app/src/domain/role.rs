//! Roles and what each may do. The server checks these on every server function and route;
//! the UI only uses them to hide what would be refused anyway.

use serde::{Deserialize, Serialize};

/// The shortest password a user may have.
pub const MIN_PASSWORD_LEN: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Support,
    Marketing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Read conversations, timelines and customers.
    ReadConversations,
    /// Reply to customers on any channel.
    Reply,
    /// Assign, change status, snooze.
    ManageConversations,
    /// Write private notes.
    WriteNotes,
    /// Play the customer on the playground channel.
    UsePlayground,
    /// Manage users.
    ManageUsers,
    /// Manage channel accounts.
    ManageChannels,
    /// Record a consent change for a customer's identifier (marketing consent; support
    /// consent also needs [`Permission::ManageConversations`]).
    ManageConsent,
    /// Read the support reports: volume, response and resolution times, per agent.
    ViewReports,
    /// Read the marketing reports too: cross-channel behaviour, consent and reach, delivery,
    /// identity.
    ViewMarketingReports,
    /// Change the reporting settings: time zone, inactivity period, business hours.
    ManageReportSettings,
    /// Put labels on conversations and take them off.
    LabelConversations,
    /// Keep the list of labels: create, rename, recolour, delete.
    ManageLabels,
    /// Draft campaigns, approve a colleague's, send, pause, resume and cancel them.
    ManageCampaigns,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Permission::ReadConversations,
        Permission::Reply,
        Permission::ManageConversations,
        Permission::WriteNotes,
        Permission::UsePlayground,
        Permission::ManageUsers,
        Permission::ManageChannels,
        Permission::ManageConsent,
        Permission::ViewReports,
        Permission::ViewMarketingReports,
        Permission::ManageReportSettings,
        Permission::LabelConversations,
        Permission::ManageLabels,
        Permission::ManageCampaigns,
    ];
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Support, Role::Marketing];
    /// From the fewest permissions to the most: the first is what a new user gets unless an
    /// admin chooses more.
    pub const BY_PRIVILEGE: [Role; 3] = [Role::Marketing, Role::Support, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Support => "support",
            Role::Marketing => "marketing",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Support => "Support",
            Role::Marketing => "Marketing",
        }
    }

    /// The permissions table (docs/architecture.md repeats it).
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Support => matches!(
                p,
                ReadConversations
                    | Reply
                    | ManageConversations
                    | WriteNotes
                    | UsePlayground
                    | ManageConsent
                    | ViewReports
                    | LabelConversations
            ),
            Role::Marketing => matches!(
                p,
                ReadConversations
                    | WriteNotes
                    | ManageConsent
                    | ViewReports
                    | ViewMarketingReports
                    | LabelConversations
                    | ManageCampaigns
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_can_do_everything() {
        assert!(Permission::ALL.iter().all(|p| Role::Admin.allows(*p)));
    }

    #[test]
    fn only_admins_manage_users_and_channels() {
        for r in [Role::Support, Role::Marketing] {
            assert!(!r.allows(Permission::ManageUsers));
            assert!(!r.allows(Permission::ManageChannels));
            assert!(!r.allows(Permission::ManageReportSettings));
            assert!(!r.allows(Permission::ManageLabels));
            assert!(r.allows(Permission::LabelConversations));
        }
    }

    #[test]
    fn marketing_reads_but_does_not_reply_or_triage() {
        assert!(Role::Marketing.allows(Permission::ReadConversations));
        assert!(!Role::Marketing.allows(Permission::Reply));
        assert!(!Role::Marketing.allows(Permission::ManageConversations));
        assert!(!Role::Marketing.allows(Permission::UsePlayground));
        assert!(Role::Support.allows(Permission::Reply));
    }

    #[test]
    fn every_role_records_consent() {
        for r in Role::ALL {
            assert!(r.allows(Permission::ManageConsent), "{r:?}");
        }
    }

    #[test]
    fn support_sees_support_reports_and_marketing_sees_all_reports() {
        for r in Role::ALL {
            assert!(r.allows(Permission::ViewReports), "{r:?}");
        }
        assert!(Role::Marketing.allows(Permission::ViewMarketingReports));
        assert!(!Role::Support.allows(Permission::ViewMarketingReports));
        assert!(Role::Marketing.allows(Permission::ManageCampaigns));
        assert!(!Role::Support.allows(Permission::ManageCampaigns));
    }

    #[test]
    fn roles_by_privilege_only_add_permissions() {
        for w in Role::BY_PRIVILEGE.windows(2) {
            let (less, more) = (w[0], w[1]);
            // The marketing reports and campaigns are marketing's own: support sees the
            // support reports only and sends no campaigns.
            for p in Permission::ALL.into_iter().filter(|p| {
                !matches!(
                    p,
                    Permission::ViewMarketingReports | Permission::ManageCampaigns
                )
            }) {
                assert!(
                    !less.allows(p) || more.allows(p),
                    "{less:?} {p:?} but not {more:?}"
                );
            }
            assert!(Permission::ALL
                .iter()
                .any(|p| more.allows(*p) && !less.allows(*p)));
        }
        let mut all = Role::BY_PRIVILEGE.to_vec();
        all.sort_by_key(|r| r.as_str());
        let mut expected = Role::ALL.to_vec();
        expected.sort_by_key(|r| r.as_str());
        assert_eq!(all, expected);
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
