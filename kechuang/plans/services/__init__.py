"""Plans: ingestion of a plan text, the decomposition table, progress and supervision."""
