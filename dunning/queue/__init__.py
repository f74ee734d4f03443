"""The rules: priority, eligibility, claiming, outcomes, reassignment. Never imports Textual."""
