"""The jobs' glue: fetch from GitHub, run the review engine, post once. One module per kind of job."""
