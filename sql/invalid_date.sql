-- rule: invalid_date
-- description: Start Date and Expiration Date, when set, are one of Voucherify's ISO 8601 forms, and the start is not after the expiration.
-- example: Start Date=31/12/2026  ->  Start Date '31/12/2026' is not a date in a form Voucherify takes (e.g. 2026-12-31 or 2026-12-31T23:59:59Z)
--
-- voucherify_datetime() accepts YYYY-MM-DD, YYYY-MM-DDTHH, YYYY-MM-DDTHH:mm,
-- YYYY-MM-DDTHH:mm:ss, YYYY-MM-DDTHH:mm:ssZ and YYYY-MM-DDTHH:mm:ss.SSSZ for a real
-- calendar date, and is NULL for anything else.
SELECT concat_ws('; ',
    CASE WHEN "Start Date" IS NOT NULL AND voucherify_datetime("Start Date") IS NULL
         THEN 'Start Date ''' || "Start Date" || ''' is not a date in a form Voucherify takes (e.g. 2026-12-31 or 2026-12-31T23:59:59Z)' END,
    CASE WHEN "Expiration Date" IS NOT NULL AND voucherify_datetime("Expiration Date") IS NULL
         THEN 'Expiration Date ''' || "Expiration Date" || ''' is not a date in a form Voucherify takes (e.g. 2026-12-31 or 2026-12-31T23:59:59Z)' END,
    CASE WHEN voucherify_datetime("Start Date") > voucherify_datetime("Expiration Date")
         THEN 'Start Date ' || "Start Date" || ' is after Expiration Date ' || "Expiration Date" END
) AS reason
FROM vouchers
WHERE ("Start Date" IS NOT NULL AND voucherify_datetime("Start Date") IS NULL)
   OR ("Expiration Date" IS NOT NULL AND voucherify_datetime("Expiration Date") IS NULL)
   OR voucherify_datetime("Start Date") > voucherify_datetime("Expiration Date")
