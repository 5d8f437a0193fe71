-- The contacts the latest sync read and whether each carries the tag $target_id (the push
-- target is the tag name). Tags are told apart as Whautomate does (canonical_tag: lower case,
-- anything but letters and digits one dash), both sides by the same expression.
SELECT id AS membership,
       list_contains(list_transform(CAST(tags AS VARCHAR[]),
                                    lambda t: trim(regexp_replace(lower(t), '[^a-z0-9]+', '-', 'g'), '-')),
                     trim(regexp_replace(lower($target_id), '[^a-z0-9]+', '-', 'g'), '-')) AS present
FROM raw_whautomate.contacts
WHERE deleted_at IS NULL
