"""One thin module per DVC stage: parse its params section, call imrnet/repro, write its outs."""
