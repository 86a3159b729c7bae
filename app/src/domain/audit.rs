//! The audit trail's actions: what is recorded, its stored name and its words. Compiled for the
//! browser too (the admin's filter).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditAction {
    SignIn,
    SignInFailed,
    SignOut,
    UserAdded,
    UserDisabled,
    UserEnabled,
    AccountSaved,
    AccountEnabled,
    AccountDisabled,
    Export,
    Merge,
    MergeUndone,
    ConsentChanged,
    CampaignApproved,
    SettingsChanged,
    PasswordChanged,
    PasswordReset,
    SessionsEnded,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodesRenewed,
}

impl AuditAction {
    pub const ALL: [AuditAction; 21] = [
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::SignOut,
        AuditAction::UserAdded,
        AuditAction::UserDisabled,
        AuditAction::UserEnabled,
        AuditAction::AccountSaved,
        AuditAction::AccountEnabled,
        AuditAction::AccountDisabled,
        AuditAction::Export,
        AuditAction::Merge,
        AuditAction::MergeUndone,
        AuditAction::ConsentChanged,
        AuditAction::CampaignApproved,
        AuditAction::SettingsChanged,
        AuditAction::PasswordChanged,
        AuditAction::PasswordReset,
        AuditAction::SessionsEnded,
        AuditAction::TwoFactorEnabled,
        AuditAction::TwoFactorDisabled,
        AuditAction::RecoveryCodesRenewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::SignOut => "sign_out",
            AuditAction::UserAdded => "user_added",
            AuditAction::UserDisabled => "user_disabled",
            AuditAction::UserEnabled => "user_enabled",
            AuditAction::AccountSaved => "channel_account_saved",
            AuditAction::AccountEnabled => "channel_account_enabled",
            AuditAction::AccountDisabled => "channel_account_disabled",
            AuditAction::Export => "export",
            AuditAction::Merge => "merge",
            AuditAction::MergeUndone => "merge_undone",
            AuditAction::ConsentChanged => "consent_changed",
            AuditAction::CampaignApproved => "campaign_approved",
            AuditAction::SettingsChanged => "settings_changed",
            AuditAction::PasswordChanged => "password_changed",
            AuditAction::PasswordReset => "password_reset",
            AuditAction::SessionsEnded => "sessions_ended",
            AuditAction::TwoFactorEnabled => "two_factor_enabled",
            AuditAction::TwoFactorDisabled => "two_factor_disabled",
            AuditAction::RecoveryCodesRenewed => "recovery_codes_renewed",
        }
    }

    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// The action in words, for the admin's list and filter.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::SignIn => "Signed in",
            AuditAction::SignInFailed => "Sign-in refused",
            AuditAction::SignOut => "Signed out",
            AuditAction::UserAdded => "User added",
            AuditAction::UserDisabled => "User disabled",
            AuditAction::UserEnabled => "User enabled",
            AuditAction::AccountSaved => "Channel account saved",
            AuditAction::AccountEnabled => "Channel account enabled",
            AuditAction::AccountDisabled => "Channel account disabled",
            AuditAction::Export => "Data exported",
            AuditAction::Merge => "Customers merged",
            AuditAction::MergeUndone => "Merge undone",
            AuditAction::ConsentChanged => "Consent changed by staff",
            AuditAction::CampaignApproved => "Campaign approved",
            AuditAction::SettingsChanged => "Settings changed",
            AuditAction::PasswordChanged => "Password changed",
            AuditAction::PasswordReset => "Password reset by an admin",
            AuditAction::SessionsEnded => "Sessions ended",
            AuditAction::TwoFactorEnabled => "Two-factor sign-in turned on",
            AuditAction::TwoFactorDisabled => "Two-factor sign-in turned off",
            AuditAction::RecoveryCodesRenewed => "New recovery codes",
        }
    }
}

/// How far back the admin's list looks: `day`, `week`, `month` or everything.
pub fn since_ms(period: &str, now: i64) -> Option<i64> {
    const DAY: i64 = 86_400_000;
    match period {
        "day" => Some(now - DAY),
        "week" => Some(now - 7 * DAY),
        "month" => Some(now - 30 * DAY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_a_name_that_parses_back_and_words() {
        let mut names = std::collections::HashSet::new();
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
            assert!(names.insert(a.as_str()), "{} twice", a.as_str());
            assert!(!a.label().is_empty());
        }
        assert_eq!(AuditAction::parse("drop_table"), None);
    }

    #[test]
    fn periods_look_back() {
        assert_eq!(since_ms("day", 100_000_000), Some(100_000_000 - 86_400_000));
        assert_eq!(since_ms("all", 5), None);
        assert_eq!(since_ms("", 5), None);
    }
}
