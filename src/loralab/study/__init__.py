"""A study: a task, a budget and candidates -> cached, resumable steps -> statistics -> verdict -> winner/."""
