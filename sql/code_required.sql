-- rule: code_required
-- description: Every row needs a voucher code: Code may not be empty or only whitespace.
-- example: Code=(empty), Active=true  ->  Code is empty
SELECT 'Code is empty' AS reason
FROM vouchers
WHERE "Code" IS NULL
