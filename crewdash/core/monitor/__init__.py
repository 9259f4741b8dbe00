"""The monitor: polls every tracked run and tells each crew's health.

Read in this order: `settings` (the knobs), `ports` (what it uses of the store and the
client), `schedule` (due times, cap in flight), `phases` (phase lengths learnt), `history`
(and seeded from the store's earlier runs), `plan` (when to look next), `health` (crew
health), `stalls`, `stats` (`crew_stats` for trends), then
`tracking` (the records) and `poller` (the async driver, `Monitor`). `probe` checks the health
of crews with no run being polled. Everything but `tracking`, `poller` and `probe` is
synchronous, with times passed in.
"""
