-- Every stay of the person in a segment: when they entered and left (NULL: still in it).
SELECT segment, entered_at, left_at
FROM crm.segment_history
WHERE person_id = $person_id
ORDER BY entered_at, segment;
