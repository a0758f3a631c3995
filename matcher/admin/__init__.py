"""Admin console: people, rules, rounds and insights (admins only)."""
