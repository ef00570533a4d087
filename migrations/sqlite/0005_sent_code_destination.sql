-- Where a sent code went when that is not the account's address: the phone number a
-- code to turn SMS on was texted to (the number being verified).
ALTER TABLE sent_codes ADD COLUMN destination TEXT;
