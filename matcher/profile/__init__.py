"""Profile: what people tell matcher about themselves, and their privacy controls."""
