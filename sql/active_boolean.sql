-- rule: active_boolean
-- description: Active, when set, is true or false in any letter case (batches write it lowercase).
-- example: Code=GC-0009, Active=yes  ->  Active 'yes' is not true/false
SELECT 'Active ''' || "Active" || ''' is not true/false' AS reason
FROM vouchers
WHERE lower("Active") NOT IN ('true', 'false')
