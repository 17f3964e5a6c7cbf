"""A realistic advocacy program, driven through the gateway's public API only.

`plan` decides everything up front from a seed (who is in which team, what content,
who shares what, who clicks, what the networks report), `run` carries it out and
writes a `Record` of what the platform acknowledged, and `expect` computes from that
record alone (never from the services' data) what every leaderboard, balance and KPI
must show. `verify` compares the two.
"""
