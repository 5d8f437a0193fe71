-- People the toy provider knows, for the providers that are read by looking people up.
SELECT phone AS phone_raw, NULL AS calling_code, NULL AS email
FROM raw_toy.contacts
