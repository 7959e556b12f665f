"""What an initializer draws, before any array exists: distribution records with their bounds
and moments, fans and gains, dtype names and inward-rounded bounds."""
