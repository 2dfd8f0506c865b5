"""Post-event statistics (issue 5): sums of people from the `agg` table, read with portable SQL.

Every breakdown is folded from the same grouped rows as the summary, so the rows always add up to
the totals (reports that could not be routed keep their own "unassigned" row).
"""
