"""Operations: reports (SITREPs, free-text), later incidents, tasks, assets."""
