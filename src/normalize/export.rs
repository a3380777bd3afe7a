//! Voucherify voucher exports (`POST /v1/exports`, `exported_object: voucher`) as input: found by
//! their columns (or `--from voucherify-export`), their fields mapped onto the campaign import's
//! columns, and the fields an import cannot carry dropped (and listed in the summary).

use crate::campaign::CampaignType;
use crate::normalize::headers::HeaderOptions;
use crate::suggest::fold;

/// Export fields a campaign import cannot carry.
pub const EXPORT_ONLY: [&str; 24] = [
    "voucher_type",
    "value",
    "formula",
    "discount_type",
    "campaign",
    "redemption_quantity",
    "qr_code",
    "bar_code",
    "id",
    "is_referral_code",
    "created_at",
    "updated_at",
    "validity_timeframe_interval",
    "validity_timeframe_duration",
    "validity_day_of_week",
    "discount_amount_limit",
    "campaign_id",
    "additional_info",
    "customer_id",
    "discount_effect",
    "discount_unit_type",
    "discount_unit_effect",
    "validation_rules_id",
    "customer_source_id",
];

/// Export fields that are the export's bookkeeping, not the voucher's data (ids, timestamps,
/// links to generated images, the type the campaign already fixes): dropping them is expected,
/// and is not worth a note even when they hold values.
const BOOKKEEPING: [&str; 9] = [
    "id",
    "voucher_type",
    "campaign",
    "campaign_id",
    "created_at",
    "updated_at",
    "qr_code",
    "bar_code",
    "is_referral_code",
];

/// Whether an export's field is bookkeeping (ids, timestamps, voucher type, QR and barcode fields), in any spelling.
pub fn is_bookkeeping(name: &str) -> bool {
    let folded = fold(name);
    BOOKKEEPING.iter().any(|f| fold(f) == folded)
}

/// Export fields that Voucherify's standalone import template (`POST /v1/vouchers/importCSV`)
/// does not have: one of them marks a file as an export.
const EXPORT_PROPER: [&str; 16] = [
    "id",
    "campaign",
    "campaign_id",
    "created_at",
    "updated_at",
    "gift_balance",
    "loyalty_balance",
    "redemption_count",
    "qr_code",
    "bar_code",
    "is_referral_code",
    "formula",
    "customer_id",
    "customer_source_id",
    "validation_rules_id",
    "discount_effect",
];

/// The `voucher_type` a campaign of this type holds.
pub fn voucher_type_of(campaign_type: CampaignType) -> Option<&'static str> {
    match campaign_type {
        CampaignType::GiftVouchers => Some("GIFT_VOUCHER"),
        CampaignType::LoyaltyProgram => Some("LOYALTY_CARD"),
        CampaignType::DiscountCoupons | CampaignType::ReferralProgram => Some("DISCOUNT_VOUCHER"),
        CampaignType::Promotion => None,
    }
}

/// The position of an export's `voucher_type` column.
pub fn voucher_type_column(names: &[String]) -> Option<usize> {
    names.iter().position(|n| fold(n) == "vouchertype")
}

/// Whether a header is Voucherify's standalone (generic) import template, meant for
/// `POST /v1/vouchers/importCSV`: `Voucher Type` and `Value` in its Title Case spelling, and
/// no field only an export has. It is neither a campaign import nor an export (its `Value` is
/// a discount or a balance by the voucher type, its `Redemption Limit` a setting no campaign
/// import takes).
pub fn is_standalone_template(names: &[String]) -> bool {
    let trimmed: Vec<&str> = names.iter().map(|n| n.trim()).collect();
    let title_case = |field: &str| trimmed.iter().any(|n| n.eq_ignore_ascii_case(field));
    let folded: Vec<String> = names.iter().map(|n| fold(n)).collect();
    let proper = EXPORT_PROPER
        .iter()
        .any(|field| folded.contains(&fold(field)));
    title_case("Voucher Type") && title_case("Value") && !proper
}

/// Whether a header is exactly an export's default fields (`code, voucher_type, value,
/// discount_type`, in any spelling and order, with an `id` column at most): the columns the
/// standalone import template starts with too, so only the user can tell which it is.
pub fn is_default_export(names: &[String]) -> bool {
    let mut folded: Vec<String> = names
        .iter()
        .map(|n| fold(n))
        .filter(|n| n != "id")
        .collect();
    folded.sort();
    let mut fields: Vec<String> = ["code", "voucher_type", "value", "discount_type"]
        .iter()
        .map(|f| fold(f))
        .collect();
    fields.sort();
    folded == fields
}

/// Whether a header is a Voucherify voucher export: a code column and at least two fields only
/// exports have (the standalone import template, which shares some, is not one).
pub fn is_export(names: &[String]) -> bool {
    if is_standalone_template(names) {
        return false;
    }
    let folded: Vec<String> = names.iter().map(|n| fold(n)).collect();
    let has = |field: &str| folded.contains(&fold(field));
    let markers = EXPORT_ONLY
        .iter()
        .chain(&["gift_balance", "loyalty_balance", "redemption_count"])
        .filter(|f| has(f))
        .count();
    has("code") && markers >= 2
}

/// The header options that convert an export: the user's own, plus the renames of the balance
/// and count fields, `metadata.<key>` to `<key>`, and drops for the export-only fields (and for a
/// balance the campaign type cannot take).
pub fn header_options(
    names: &[String],
    base: &HeaderOptions,
    campaign_type: CampaignType,
) -> HeaderOptions {
    let mut options = base.clone();
    options.json_metadata = true;
    let folded: Vec<String> = names.iter().map(|n| fold(n)).collect();
    let has = |field: &str| folded.iter().any(|f| f == field);
    for name in names {
        let original = name.trim();
        if options
            .renames
            .iter()
            .any(|(old, _)| old.trim() == original)
        {
            continue; // the user's rename wins
        }
        let target = match fold(original).as_str() {
            // `value` is a gift card's balance or a loyalty card's points (an export without
            // `fields` has no other); an explicit balance field wins.
            "value" if campaign_type == CampaignType::GiftVouchers && !has("giftbalance") => {
                Some("Gift Amount".to_owned())
            }
            "value" if campaign_type == CampaignType::LoyaltyProgram && !has("loyaltybalance") => {
                Some("Loyalty Points".to_owned())
            }
            "giftbalance" if campaign_type == CampaignType::GiftVouchers => {
                Some("Gift Amount".to_owned())
            }
            "loyaltybalance" if campaign_type == CampaignType::LoyaltyProgram => {
                Some("Loyalty Points".to_owned())
            }
            "redemptioncount" => Some("Redeemed Quantity".to_owned()),
            "giftbalance" | "loyaltybalance" => {
                options.drops.push(original.to_owned());
                None
            }
            folded if EXPORT_ONLY.iter().any(|f| fold(f) == folded) => {
                options.drops.push(original.to_owned());
                None
            }
            _ => original
                .strip_prefix("metadata.")
                .filter(|key| !key.is_empty())
                .map(str::to_owned),
        };
        if let Some(target) = target {
            options.renames.push((original.to_owned(), target));
        }
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exports_are_found_in_snake_and_title_case() {
        assert!(is_export(&names(&[
            "code",
            "voucher_type",
            "gift_balance",
            "metadata"
        ])));
        assert!(is_export(&names(&[
            "Code",
            "Voucher Type",
            "Gift Balance",
            "Created At"
        ])));
        assert!(!is_export(&names(&["Code", "Active", "Category"])));
        assert!(
            !is_export(&names(&["Code", "value"])),
            "one marker is not enough"
        );
    }

    #[test]
    fn the_standalone_template_is_no_export_and_the_documented_export_example_is_one() {
        let standalone = names(&["Code", "Voucher Type", "Value", "Discount Type", "Category"]);
        assert!(is_standalone_template(&standalone));
        assert!(!is_export(&standalone));
        // Voucherify's documented download example.
        let documented = names(&["ID", "Code", "Voucher Type", "Value"]);
        assert!(!is_standalone_template(&documented));
        assert!(is_export(&documented));
        // An export without `fields`.
        let default = names(&["code", "voucher_type", "value", "discount_type"]);
        assert!(!is_standalone_template(&default));
        assert!(is_export(&default));
    }

    #[test]
    fn fields_map_onto_the_import() {
        let header = names(&[
            "code",
            "voucher_type",
            "gift_balance",
            "loyalty_balance",
            "redemption_count",
            "metadata.region",
            "created_at",
        ]);
        let options = header_options(
            &header,
            &HeaderOptions::default(),
            CampaignType::GiftVouchers,
        );
        assert_eq!(
            options.renames,
            vec![
                ("gift_balance".to_string(), "Gift Amount".to_string()),
                (
                    "redemption_count".to_string(),
                    "Redeemed Quantity".to_string()
                ),
                ("metadata.region".to_string(), "region".to_string()),
            ]
        );
        assert_eq!(
            options.drops,
            ["voucher_type", "loyalty_balance", "created_at"]
        );
    }
}
