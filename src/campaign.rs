//! The campaign the import goes into: its type (which columns it takes), its identity and how
//! many codes it already holds, either from `--campaign-type` or from a campaign object as
//! `GET /v1/campaigns/{id}` returns it.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};

/// Voucherify's `campaign_type`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignType {
    /// Discount codes (`DISCOUNT_COUPONS`).
    DiscountCoupons,
    /// Gift cards with a balance (`GIFT_VOUCHERS`).
    GiftVouchers,
    /// Loyalty cards with points (`LOYALTY_PROGRAM`).
    LoyaltyProgram,
    /// Referral codes (`REFERRAL_PROGRAM`).
    ReferralProgram,
    /// A promotion: it holds no codes, so nothing can be imported into it.
    Promotion,
}

impl CampaignType {
    /// Every campaign type, in the order `--campaign-type` lists them.
    pub const ALL: [CampaignType; 5] = [
        CampaignType::DiscountCoupons,
        CampaignType::GiftVouchers,
        CampaignType::LoyaltyProgram,
        CampaignType::ReferralProgram,
        CampaignType::Promotion,
    ];

    /// The API spelling, `GIFT_VOUCHERS`.
    pub fn api_name(self) -> &'static str {
        match self {
            CampaignType::DiscountCoupons => "DISCOUNT_COUPONS",
            CampaignType::GiftVouchers => "GIFT_VOUCHERS",
            CampaignType::LoyaltyProgram => "LOYALTY_PROGRAM",
            CampaignType::ReferralProgram => "REFERRAL_PROGRAM",
            CampaignType::Promotion => "PROMOTION",
        }
    }

    /// The short spelling accepted on the command line, `gift`.
    pub fn short_name(self) -> &'static str {
        match self {
            CampaignType::DiscountCoupons => "discount",
            CampaignType::GiftVouchers => "gift",
            CampaignType::LoyaltyProgram => "loyalty",
            CampaignType::ReferralProgram => "referral",
            CampaignType::Promotion => "promotion",
        }
    }
}

impl fmt::Display for CampaignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.api_name())
    }
}

impl FromStr for CampaignType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let wanted = s.trim();
        CampaignType::ALL
            .into_iter()
            .find(|t| {
                t.api_name().eq_ignore_ascii_case(wanted)
                    || t.short_name().eq_ignore_ascii_case(wanted)
            })
            .ok_or_else(|| {
                let names: Vec<String> = CampaignType::ALL
                    .iter()
                    .map(|t| format!("{} ({})", t.short_name(), t.api_name()))
                    .collect();
                let mut message = format!("unknown campaign type '{s}'");
                if let Some(best) = crate::suggest::closest(
                    wanted,
                    CampaignType::ALL
                        .iter()
                        .flat_map(|t| [t.short_name(), t.api_name()]),
                ) {
                    message.push_str(&format!(": did you mean '{best}'?"));
                }
                format!("{message} (one of: {})", names.join(", "))
            })
    }
}

/// The campaign as far as the import needs it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Campaign {
    /// The campaign's type, which decides the columns an import may have.
    pub campaign_type: CampaignType,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Voucherify's id of the campaign, when the campaign object gave one.
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The campaign's name, when the campaign object gave one.
    pub name: Option<String>,
    /// Codes the campaign already holds (they count against the campaign limit).
    pub vouchers_count: u64,
}

impl Campaign {
    /// A campaign known only by its type (no id, no codes held yet).
    pub fn of_type(campaign_type: CampaignType) -> Self {
        Campaign {
            campaign_type,
            id: None,
            name: None,
            vouchers_count: 0,
        }
    }

    /// Reads a campaign object exactly as `GET /v1/campaigns/{id}` returns it. Only
    /// `campaign_type`, `vouchers_count`, `id` and `name` are used.
    pub fn from_json_file(path: &Path) -> Result<Self> {
        let text = crate::text_file::read_settings_file(path, "--campaign")?;
        Self::from_json(&text).map_err(|message| {
            Error::input(
                path,
                message,
                "pass the JSON body that GET /v1/campaigns/{id} returns, or use --campaign-type",
            )
        })
    }

    /// Refuses a campaign that cannot be the target of a code import: a `PROMOTION` campaign
    /// is applied to carts without codes.
    pub fn check_holds_codes(&self) -> Result<()> {
        if self.campaign_type == CampaignType::Promotion {
            return Err(Error::usage(
                "a PROMOTION campaign holds no codes (promotions apply to carts without one): codes cannot be imported into it",
                "import into a discount, gift card, loyalty or referral campaign (--campaign-type discount|gift|loyalty|referral)",
            ));
        }
        Ok(())
    }

    /// Reads a campaign object as `GET /v1/campaigns/{id}` returns it; the error says what is missing.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a JSON campaign object: {e}"))?;
        let object = value
            .as_object()
            .ok_or("not a JSON campaign object: the top level is not an object")?;
        let type_value = object
            .get("campaign_type")
            .ok_or("the campaign object has no 'campaign_type'")?;
        let type_name = type_value
            .as_str()
            .ok_or("'campaign_type' is not a string")?;
        let campaign_type = type_name.parse::<CampaignType>()?;
        let text_field = |name: &str| object.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        let vouchers_count = match object.get("vouchers_count") {
            None | Some(serde_json::Value::Null) => 0,
            Some(v) => v
                .as_u64()
                .ok_or("'vouchers_count' is not a non-negative whole number")?,
        };
        Ok(Campaign {
            campaign_type,
            id: text_field("id"),
            name: text_field("name"),
            vouchers_count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_type_accepts_api_and_short_names_in_any_case() {
        assert_eq!("gift".parse(), Ok(CampaignType::GiftVouchers));
        assert_eq!("GIFT_VOUCHERS".parse(), Ok(CampaignType::GiftVouchers));
        assert_eq!(
            " Loyalty_Program ".parse(),
            Ok(CampaignType::LoyaltyProgram)
        );
        assert_eq!("referral".parse(), Ok(CampaignType::ReferralProgram));
    }

    #[test]
    fn unknown_campaign_type_suggests_the_closest() {
        let err = "gfit".parse::<CampaignType>().unwrap_err();
        assert!(err.contains("did you mean 'gift'?"), "{err}");
    }

    #[test]
    fn campaign_object_gives_type_count_and_identity() {
        let c = Campaign::from_json(
            r#"{"id":"camp_1","name":"Gift cards","campaign_type":"GIFT_VOUCHERS",
                "type":"STATIC","vouchers_count":42,"voucher":{"type":"GIFT_VOUCHER"}}"#,
        )
        .unwrap();
        assert_eq!(c.campaign_type, CampaignType::GiftVouchers);
        assert_eq!(c.vouchers_count, 42);
        assert_eq!(c.id.as_deref(), Some("camp_1"));
        assert_eq!(c.name.as_deref(), Some("Gift cards"));
    }

    #[test]
    fn campaign_object_without_type_is_refused() {
        let err = Campaign::from_json(r#"{"id":"camp_1"}"#).unwrap_err();
        assert!(err.contains("campaign_type"), "{err}");
    }
}
