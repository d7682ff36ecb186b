"""People's rights over their data: a copy of everything (export), erasure
(anonymisation that keeps the counts), and how long Ponte keeps what (retention)."""
