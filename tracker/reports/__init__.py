"""Reports read from the stored cutoff history: the daily supervision report, trends."""
