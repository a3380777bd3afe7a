-- rule: active_boolean
-- description: Active, when set, is true or false in any letter case (batches write it lowercase).
SELECT 'Active ''' || "Active" || ''' is not true/false' AS reason
FROM vouchers
WHERE lower("Active") NOT IN ('true', 'false')
