-- rule: redeemed_over_balance
-- description: Redeemed Amount may not exceed Gift Amount (checked when both are valid amounts).
-- example: Gift Amount=5000, Redeemed Amount=6000  ->  Redeemed Amount 6000 is more than Gift Amount 5000
SELECT 'Redeemed Amount ' || "Redeemed Amount" || ' is more than Gift Amount ' || "Gift Amount" AS reason
FROM vouchers
WHERE amount_minor_units("Redeemed Amount") > amount_minor_units("Gift Amount")
