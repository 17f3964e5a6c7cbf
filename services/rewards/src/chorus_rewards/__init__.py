"""Chorus rewards service: Points ledger, live leaderboards, contests, raffles and badges."""
