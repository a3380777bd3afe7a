-- rule: invalid_number
-- description: Gift Amount, Redeemed Amount, Loyalty Points and Redeemed Quantity, when set, are non-negative whole numbers (amounts: see --amount-unit).
-- example: Gift Amount=12,50  ->  Gift Amount '12,50' is not an amount
--
-- amount_minor_units() follows --amount-unit: whole minor units by default, up to two
-- decimals with --amount-unit major. It is NULL for anything else.
SELECT concat_ws('; ',
    CASE WHEN amount_minor_units("Gift Amount") IS NULL
         THEN 'Gift Amount ''' || "Gift Amount" || ''' is not an amount' END,
    CASE WHEN amount_minor_units("Redeemed Amount") IS NULL
         THEN 'Redeemed Amount ''' || "Redeemed Amount" || ''' is not an amount' END,
    CASE WHEN NOT is_whole_number("Loyalty Points")
         THEN 'Loyalty Points ''' || "Loyalty Points" || ''' is not a non-negative whole number' END,
    CASE WHEN NOT is_whole_number("Redeemed Quantity")
         THEN 'Redeemed Quantity ''' || "Redeemed Quantity" || ''' is not a non-negative whole number' END
) AS reason
FROM vouchers
WHERE ("Gift Amount" IS NOT NULL AND amount_minor_units("Gift Amount") IS NULL)
   OR ("Redeemed Amount" IS NOT NULL AND amount_minor_units("Redeemed Amount") IS NULL)
   OR NOT is_whole_number("Loyalty Points")
   OR NOT is_whole_number("Redeemed Quantity")
