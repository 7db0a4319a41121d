"""What the bot does on a repository: replies, notices, folding, follow-ups, digests, reconcile, the records branch."""
