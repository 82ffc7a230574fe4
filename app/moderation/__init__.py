"""Moderation: the state machine every change of a comment's status goes through."""
