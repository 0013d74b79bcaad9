"""The harness: seeding, params, paper reference numbers, tables, figures, claims (grows with the
pipeline issue). Today it holds only the package marker."""
