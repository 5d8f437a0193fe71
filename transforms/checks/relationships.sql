-- Rows whose value does not exist in the referenced column (NULL refers to nothing: not judged).
SELECT child.*
FROM {relation} AS child
WHERE child.{column} IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {parent} AS parent WHERE parent.{parent_column} = child.{column})
