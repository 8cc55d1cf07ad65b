-- The texts of key sets :ids.
SELECT keys FROM key_set WHERE id IN_LIST(:ids)
