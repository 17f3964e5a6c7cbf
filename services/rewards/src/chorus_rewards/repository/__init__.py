"""The only modules with SQL. Functions take an asyncpg connection (or pool) and always
filter by tenant id; the caller owns the transaction."""
