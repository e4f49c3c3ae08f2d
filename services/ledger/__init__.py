"""The ledger: what each hub owes its sellers, entry by entry (DESIGN §8)."""
