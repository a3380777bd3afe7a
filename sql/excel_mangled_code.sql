-- rule: excel_mangled_code
-- description: The code does not look like a number a spreadsheet rewrote: in scientific notation (1.23457E+12: its digits past the sixth are lost), or stripped of its leading zeros (123 for 000123: an existing code once the zeros are put back, or shorter than the column's zero-padded codes).
-- example: Code=1.23457E+12  ->  Code '1.23457E+12' looks like a number a spreadsheet rewrote in scientific notation (the digits past the sixth are lost): export the code column as text and give the original codes
-- severity: warn
--
-- Excel, LibreOffice and Google Sheets read a long all-digit code as a number and, saved as
-- CSV, write it as 1.23457E+12: the code Voucherify would import is that text, and the
-- original digits are gone. The row is imported (such a code may be meant), and warned of.
--
-- A spreadsheet also reads 000123 as the number 123. That is found by the dedup stage, which
-- holds the codes it needs, under this rule's name: an all-digit code that, with leading
-- zeros put back, is a code listed in --existing; or one shorter than the width the column's
-- zero-padded codes share (at least two of them, and nine in ten padded codes, have it),
-- counting the padded codes up to the end of the row's chunk of 8,192 rows. The SQL below
-- finds scientific notation.
SELECT 'Code ''' || "Code" || ''' looks like a number a spreadsheet rewrote in scientific notation (the digits past the sixth are lost): export the code column as text and give the original codes' AS reason
FROM vouchers
WHERE is_scientific_notation("Code")
