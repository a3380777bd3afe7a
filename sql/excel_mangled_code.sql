-- rule: excel_mangled_code
-- description: The code does not look like a number a spreadsheet rewrote in scientific notation (1.23457E+12: its digits past the sixth are lost).
-- example: Code=1.23457E+12  ->  Code '1.23457E+12' looks like a number a spreadsheet rewrote in scientific notation (the digits past the sixth are lost): export the code column as text and give the original codes
-- severity: warn
--
-- Excel, LibreOffice and Google Sheets read a long all-digit code as a number and, saved as
-- CSV, write it as 1.23457E+12: the code Voucherify would import is that text, and the
-- original digits are gone. The row is imported (such a code may be meant), and warned of.
SELECT 'Code ''' || "Code" || ''' looks like a number a spreadsheet rewrote in scientific notation (the digits past the sixth are lost): export the code column as text and give the original codes' AS reason
FROM vouchers
WHERE is_scientific_notation("Code")
