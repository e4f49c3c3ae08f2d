"""Messaging: members trade by SMS and WhatsApp in a few command words (DESIGN §7)."""
