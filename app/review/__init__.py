"""The review engine: diff model, budget, static checks, prompts, model client, findings, rendering."""
